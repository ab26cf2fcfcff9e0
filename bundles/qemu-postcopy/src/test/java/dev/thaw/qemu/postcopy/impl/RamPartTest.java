package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RAM PART records as QEMU sends and reads them (docs/qemu-postcopy.md 5.3, the captured PART at @0x3b0d5). */
class RamPartTest {

    private final List<SourceBlock> pc = StreamWriterTest.PC_BLOCKS;

    @Test
    void theFirstRecordNamesItsBlockTheNextOfTheSameBlockContinueAndZeroPagesAreNineBytes() {
        byte[] page = new byte[Protocol.PAGE_SIZE];
        Arrays.fill(page, (byte) 0xa5);
        RamPart part = new RamPart(1, 8);
        part.begin();
        part.page(pc.getFirst(), 0).copyFrom(MemorySegment.ofArray(page));
        part.zero(pc.getFirst(), 0xc1);
        part.zero(pc.get(2), 0x3f); // pc.bios: named, as its block differs
        part.page(pc.getFirst(), 1).copyFrom(MemorySegment.ofArray(page)); // pc.ram again: named again
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(Hex.of("02 00000001 0000000000000008 06\"pc.ram\""));
        expected.writeBytes(page);
        expected.writeBytes(Hex.of("00000000000c1022 00"));
        expected.writeBytes(Hex.of("000000000003f002 07\"pc.bios\" 00"));
        expected.writeBytes(Hex.of("0000000000001008 06\"pc.ram\""));
        expected.writeBytes(page);
        expected.writeBytes(Hex.of("0000000000000010 7e 00000001"));
        assertArrayEquals(expected.toByteArray(), Hex.of(part.finish()));
    }

    @Test
    void eachPartNamesItsFirstBlockAgain() {
        RamPart part = new RamPart(1, 2);
        part.begin();
        part.zero(pc.getFirst(), 1);
        part.finish();
        part.begin();
        part.zero(pc.getFirst(), 2);
        assertArrayEquals(Hex.of("02 00000001 0000000000002002 06\"pc.ram\" 00 0000000000000010 7e 00000001"), Hex.of(part.finish()));
    }

    @Test
    void aFullPartTakesNoMoreRecords() {
        RamPart part = new RamPart(7, 1);
        part.begin();
        part.zero(pc.getFirst(), 0);
        assertTrue(part.full());
        assertThrows(IllegalStateException.class, () -> part.zero(pc.getFirst(), 1));
    }
}

package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Message;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.PageRequest;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Pong;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.ProtocolException;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Shut;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The return path's captured messages (docs/qemu-postcopy.md 9.1), and the ones a source must refuse. */
class ReturnPathReaderTest {

    @Test
    void theCapturedMessagesReadAsPongRequestsByNameAndByTheLastNameAndShut() throws IOException {
        List<Message> got = read("""
                0002 0004 00000001
                0003 0013 0000000000000000 00001000 06 "pc.ram"
                0004 000c 00000000000c1000 00001000
                0001 0004 00000000
                """);
        assertEquals(new Pong(1), got.get(0));
        assertEquals(List.of("pc.ram", 0L, 4096L), request(got.get(1)));
        assertEquals(List.of("pc.ram", 0xc1000L, 4096L), request(got.get(2)));
        assertEquals(new Shut(0), got.get(3));
        assertEquals(4, got.size(), "then the end of the return path");
    }

    @Test
    void aRequestNamingAnotherBlockChangesTheBlockOfTheRequestsAfterIt() throws IOException {
        List<Message> got = read("""
                0003 0013 0000000000000000 00001000 06 "pc.ram"
                0003 0014 000000000003f000 00001000 07 "pc.bios"
                0004 000c 000000000003e000 00002000
                """);
        assertEquals(List.of("pc.bios", 0x3e000L, 8192L), request(got.get(2)));
    }

    @Test
    void messagesThatBreakTheProtocolAreRefusedWithWhatWasWrong() {
        assertEquals("REQ_PAGES before any REQ_PAGES_ID named a block", refused("0004 000c 0000000000000000 00001000"));
        assertEquals("a misaligned page request: 0x1000 bytes at 0x10 of RAM block pc.ram",
                refused("0003 0013 0000000000000010 00001000 06 \"pc.ram\""));
        assertEquals("a misaligned page request: 0x0 bytes at 0x0 of RAM block pc.ram",
                refused("0003 0013 0000000000000000 00000000 06 \"pc.ram\""));
        assertEquals("SHUT (type 1) with 2 bytes, not 4", refused("0001 0002 0000"));
        assertEquals("REQ_PAGES_ID with 19 bytes, not 13 and the block name's",
                refused("0003 0013 0000000000000000 00001000 07 \"pc.ram\""));
        assertEquals("unexpected return-path message type 5 (0 bytes)", refused("0005 0000"));
        assertEquals("a return-path message of type 2 with 513 bytes (at most 512)", refused("0002 0201"));
        assertEquals("the return path ends in the middle of a message", refused("0002 0004 0000"));
        assertEquals("the return path ends in the middle of a message", refused("00"));
    }

    private static List<Object> request(Message m) {
        PageRequest r = (PageRequest) m;
        return List.of(r.block(), r.offset(), r.length());
    }

    private static List<Message> read(String doc) throws IOException {
        ReturnPathReader reader = new ReturnPathReader(Channels.newChannel(new ByteArrayInputStream(Hex.of(doc))));
        List<Message> all = new ArrayList<>();
        for (Message m; (m = reader.next()) != null; ) {
            all.add(m);
        }
        assertNull(reader.next());
        return all;
    }

    private static String refused(String doc) {
        return assertThrows(ProtocolException.class, () -> read(doc)).getMessage();
    }
}

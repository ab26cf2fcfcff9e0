package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A damaged mapped-ram file gets one line naming the file and the problem: never another exception, a zero
 * page for a missing one, or an allocation sized by an unchecked field. The damage is done to a file QEMU wrote.
 */
class QemuBadInputTest {

    @TempDir
    Path dir;

    private Path good;
    private long ramHeader;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @BeforeEach
    void writeSample() throws Exception {
        good = Samples.write("qemu-microvm.mr", dir);
        byte[] head = Files.readAllBytes(good).length > 0 ? readHead(good) : new byte[0];
        ramHeader = indexOf(head, "microvm.ram") + "microvm.ram".length(); // be64 length, then the mapped-ram header
    }

    @ParameterizedTest
    @ValueSource(longs = {6, 13, 40, 0x60, 0x90, 0x100010, 0x1500004})
    void aTruncatedFileSaysWhereItEnds(long length) throws Exception {
        Path file = copy("truncated");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(length);
        }
        String message = refused(file);
        assertTrue(message.contains("the file ends") || message.contains("not within the file"), message);
    }

    @Test
    void aFileCutInItsDeviceSectionsOrDescriptionIsRefusedToo() throws Exception {
        long size = Files.size(good);
        for (long cut : new long[] {size - 1, size - 100, size - 3000}) {
            Path file = copy("cut" + cut);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            refused(file);
        }
    }

    @Test
    void aBitmapOrPagesPastTheEndAreNamed() throws Exception {
        long size = Files.size(good);
        assertEquals("RAM block microvm.ram (at byte 92): its bitmap (512 bytes at byte " + size + ") is not within the file ("
                + size + " bytes)", problem(patch64(ramHeader + 20, size)));
        assertTrue(problem(patch64(ramHeader + 28, size)).endsWith("its pages (16777216 bytes at byte " + size
                + ") are not within the file (" + size + " bytes) after its bitmap"));
        assertTrue(problem(patch64(ramHeader + 28, 0x8c)).contains("its pages (16777216 bytes at byte 140)"), "pages over the bitmap");
    }

    @Test
    void pageSizesAndBlockLengthsMustFit() throws Exception {
        assertEquals("RAM block microvm.ram (at byte 92) has 3000-byte pages; x86 QEMU writes 4096-byte pages, the only size "
                + "Thaw serves", problem(patch64(ramHeader + 12, 3000)));
        assertTrue(problem(patch64(ramHeader + 12, 1L << 40)).contains("has 1099511627776-byte pages"));
        assertTrue(problem(patch64(ramHeader + 12, -4096)).contains("has 18446744073709547520-byte pages"));
        assertTrue(problem(patch64(ramHeader, (16L << 20) + 100)).endsWith("is 16777316 bytes long, not a whole number of "
                + "4096-byte pages up to 4398046511104"));
        assertTrue(problem(patch64(ramHeader, Long.MAX_VALUE & ~0xfffL)).contains("bytes long, not a whole number"),
                "a huge length is refused before anything is allocated for it");
    }

    @Test
    void unknownSectionTypesAndVersionsAreNamed() throws Exception {
        byte[] all = Files.readAllBytes(good);
        int part = indexOf(all, new byte[] {0x7e, 0, 0, 0, 1, 0x02, 0, 0, 0, 1}) + 5; // the first footer, then PART
        assertEquals("unknown section type 0x09 at byte " + part, problem(patch8(part, 0x09)));
        assertEquals("QEMU stream version 2 (this reader knows version 3)", problem(patch8(7, 2)));
        assertEquals("the ram section starts with flags 0x8, not the RAM size", problem(patch8(0x5b, 0x08)));
        assertEquals("the ram section says the guest has " + (Long.MAX_VALUE & ~0x3ffL) + " bytes of RAM (at most 17592186044416)",
                problem(patch64(0x54, Long.MAX_VALUE & ~0x3ffL | 0x04)));
        assertEquals("RAM block microvm.ram ends at 16777216 bytes, past the 4096 the ram section says",
                problem(patch64(0x54, 0x1004)));
        assertEquals("unknown configuration subsection 'Xonfiguration/capabilities' at byte 21", problem(patch8(0x16, 'X')));
    }

    @Test
    void randomBytesAfterAValidHeaderAreRefusedInOneLine() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 50; i++) {
            byte[] bytes = new byte[8 + random.nextInt(8192)];
            random.nextBytes(bytes);
            ByteBuffer.wrap(bytes).putInt(0, (int) MigrationStream.MAGIC).putInt(4, 3);
            Path file = dir.resolve("random" + i);
            Files.write(file, bytes);
            refused(file);
        }
    }

    @Test
    void aHostileDescriptionIsRefusedWithItsPlace() throws Exception {
        byte[] all = Files.readAllBytes(good);
        int json = indexOf(all, "{\"configuration\": {\"vmsd_name\"");
        assertTrue(json > 0);
        Path broken = patch8(json + "{\"configuration\"".length(), ';');
        String why = problem(broken);
        assertTrue(why.startsWith("the VMDESCRIPTION JSON at byte " + json + " is not valid JSON: "), why);
        assertEquals("the VMDESCRIPTION JSON at byte " + json + " has no devices list", problem(patch8(json, '[')));
        byte[] noDevices = "{\"configuration\": {}, \"devices\": 7}".getBytes(StandardCharsets.US_ASCII);
        Path file = copy("nodevices");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(json);
            ch.write(ByteBuffer.wrap(noDevices), json);
            ch.write(ByteBuffer.allocate(4).putInt(0, noDevices.length), json - 4);
        }
        assertEquals("the VMDESCRIPTION JSON at byte " + json + " has no devices list", problem(file));
    }

    /** The problem part of the one-line message, after "FILE: ". */
    private String problem(Path file) {
        String message = refused(file);
        return message.substring(file.toString().length() + 2);
    }

    private String refused(Path file) {
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file).close(), file.toString());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    private Path copy(String name) throws Exception {
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        try (FileChannel in = FileChannel.open(good); FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            in.transferTo(0, in.size(), out);
        }
        return file;
    }

    private int n;

    private Path patch64(long at, long value) throws Exception {
        return patch(at, ByteBuffer.allocate(8).putLong(0, value));
    }

    private Path patch8(long at, int value) throws Exception {
        return patch(at, ByteBuffer.wrap(new byte[] {(byte) value}));
    }

    private Path patch(long at, ByteBuffer bytes) throws Exception {
        Path file = copy("patched" + n++);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(bytes, at);
        }
        return file;
    }

    private static byte[] readHead(Path file) throws Exception {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(4096);
        }
    }

    static int indexOf(byte[] data, String text) {
        return indexOf(data, text.getBytes(StandardCharsets.US_ASCII));
    }

    static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

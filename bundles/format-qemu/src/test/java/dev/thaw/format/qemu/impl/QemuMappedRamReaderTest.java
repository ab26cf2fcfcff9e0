package dev.thaw.format.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Files QEMU 10 wrote: every block, bitmap and device as QEMU reported them, and every page where the guest had it. */
class QemuMappedRamReaderTest {

    static final List<String> MICROVM_BLOCKS = List.of("microvm.ram:16777216", "/rom@etc/acpi/tables:4096", "pc.bios:65536",
            "/rom@etc/table-loader:4096", "/rom@etc/acpi/rsdp:4096");
    static final List<String> MICROVM_DEVICES = List.of("timer", "fw_cfg", "cpu_common", "cpu", "kvm-tpr-opt", "apic", "ioapic",
            "ioapic#1", "acpi-ged", "i8259", "i8259#1", "i8254", "mc146818rtc", "globalstate");

    @TempDir
    Path dir;

    private final QemuMappedRamFormat format = new QemuMappedRamFormat();

    @ParameterizedTest
    @CsvSource({"qemu-microvm.mr, 0, mapped-ram", "qemu-multifd.mr, 0, mapped-ram", "qemu-offset.mr, 4660, mapped-ram"})
    void aMicrovmFileHoldsItsBlocksDevicesAndTheLoadedPages(String sample, long offset, String capabilities) {
        Path file = Samples.write(sample, dir);
        try (SnapshotReader r = format.open(file, offset)) {
            assertEquals("qemu-mapped-ram", r.format());
            assertEquals("microvm", r.origin().machine());
            assertEquals(List.of(capabilities.split(" ")), r.origin().capabilities());
            assertEquals(MICROVM_BLOCKS, blocks(r));
            assertEquals(MICROVM_DEVICES, devices(r));
            Map<Long, byte[]> loaded = new TreeMap<>();
            loaded.put(0L, Samples.page("micro", 0));
            for (long gpa : new long[] {0x100000, 0x101000, 0x102000, 0x800000}) {
                loaded.put(gpa / Samples.PAGE, Samples.page("micro", gpa));
            }
            loaded.put(0xfffL, Samples.shortPage("micro", 0xfff000));
            // page 2304 was loaded with zeros: QEMU leaves it out, and it reads as zeros
            assertPages(r, 0, loaded);
            assertEquals(1, r.regions().get(1).presentPages(), "the ACPI tables' page");
        }
    }

    @ParameterizedTest
    @CsvSource({"qemu-pc.mr, pc-i440fx-10.0, 8", "qemu-q35.mr, pc-q35-10.0, 6"})
    void pcAndQ35FilesHoldTheirManyBlocksAndTheLoadedPages(String sample, String machine, int blocks) {
        try (SnapshotReader r = format.open(Samples.write(sample, dir))) {
            assertEquals(machine, r.origin().machine());
            assertEquals(blocks, r.regions().size());
            assertEquals("pc.ram:33554432", blocks(r).getFirst());
            assertTrue(devices(r).contains("0000:00:00.0/" + (sample.contains("q35") ? "mch" : "I440FX")), devices(r).toString());
            assertTrue(devices(r).containsAll(List.of("apic", "hpet", "ioapic", "globalstate")), devices(r).toString());
            if (sample.contains("pc.mr")) {
                assertTrue(blocks(r).containsAll(List.of("0000:00:02.0/vga.vram:4194304", "0000:00:02.0/vga.rom:65536")),
                        blocks(r).toString());
            }
            Map<Long, byte[]> loaded = new TreeMap<>();
            loaded.put(0L, Samples.page("pc", 0));
            for (long gpa : new long[] {0x100000, 0x101000, 0x102000}) {
                loaded.put(gpa / Samples.PAGE, Samples.page("pc", gpa));
            }
            loaded.put(0x1fffL, Samples.shortPage("pc", 0x1fff000));
            assertPages(r, 0, loaded);
        }
    }

    @Test
    void anEightGibGuestWithTwoPagesOpensFromItsBitmaps() throws Exception {
        Path file = Samples.write("qemu-8g-sparse.mr", dir);
        assertTrue(Files.size(file) > 8L << 30);
        try (SnapshotReader r = format.open(file)) {
            SnapshotRegion ram = r.regions().getFirst();
            assertEquals(8L << 30, ram.size());
            assertEquals(2, ram.presentPages());
            assertTrue(r.isPresent(0, 256) && r.isPresent(0, ram.pages() - 1) && !r.isPresent(0, 257));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment page = arena.allocate(Samples.PAGE);
                r.readPages(0, ram.pages() - 1, 1, page);
                assertArrayEquals(Samples.page("big", 0x23ffff000L), page.toArray(ValueLayout.JAVA_BYTE),
                        "the last page of the block (guest address above 4 GiB)");
            }
        }
    }

    @Test
    void aStreamWithoutMappedRamIsRefusedWithHowToSaveItAgain() {
        Path file = Samples.write("qemu-legacy.mig", dir);
        assertTrue(format.probe(head(file)), "a QEMU stream is recognised, so that the refusal can say why");
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file));
        assertEquals(file + ": a QEMU migration stream without the mapped-ram capability: its pages are inline, not at fixed "
                + "offsets; save it again with migrate_set_capability mapped-ram on (QEMU 9 or later)", e.getMessage());
    }

    @Test
    void theOffsetFormNeedsItsOffsetAndOtherFilesAreNotProbedAsQemu() {
        Path file = Samples.write("qemu-offset.mr", dir);
        assertFalse(format.probe(head(file)), "the stream does not start at byte 0");
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(file, Samples.OFFSET + 1));
        assertTrue(e.getMessage().startsWith(file + ": not a QEMU migration stream (no QEVM magic at byte 4661)"), e.getMessage());
        assertFalse(format.probe("THAWSNAP".getBytes()));
    }

    /** Every page of region {@code region}: the loaded ones as given, all others absent and zero. */
    private static void assertPages(SnapshotReader r, int region, Map<Long, byte[]> loaded) {
        SnapshotRegion reg = r.regions().get(region);
        assertEquals(loaded.size(), reg.presentPages(), "present pages of " + reg.name());
        long[] present = LongStream.range(0, reg.pages()).filter(p -> r.isPresent(region, p)).toArray();
        assertArrayEquals(loaded.keySet().stream().mapToLong(Long::longValue).toArray(), present);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(reg.size(), Samples.PAGE);
            r.readPages(region, 0, reg.pages(), all);
            byte[] zero = new byte[Samples.PAGE];
            for (long p = 0; p < reg.pages(); p++) {
                byte[] got = all.asSlice(p * Samples.PAGE, Samples.PAGE).toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(loaded.getOrDefault(p, zero), got, "page " + p + " of " + reg.name());
            }
            // a read that starts and ends inside runs of both kinds gives the same bytes
            MemorySegment part = arena.allocate(5L * Samples.PAGE);
            r.readPages(region, 255, 5, part);
            assertEquals(-1, part.mismatch(all.asSlice(255L * Samples.PAGE, 5L * Samples.PAGE)));
        }
    }

    private static List<String> blocks(SnapshotReader r) {
        List<String> list = new ArrayList<>();
        for (SnapshotRegion g : r.regions()) {
            assertEquals(Samples.PAGE, g.pageSize());
            assertEquals(-1, g.guestAddress(), "a mapped-ram file does not say where a block is in the guest");
            list.add(g.name() + ":" + g.size());
        }
        return list;
    }

    private static List<String> devices(SnapshotReader r) {
        return r.origin().devices().stream().map(QemuMappedRamReaderTest::name).toList();
    }

    private static String name(SnapshotDevice d) {
        return d.instance() == 0 ? d.name() : d.name() + "#" + d.instance();
    }

    static byte[] head(Path file) {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(4096);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

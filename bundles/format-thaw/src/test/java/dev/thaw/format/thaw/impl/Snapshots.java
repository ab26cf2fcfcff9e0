package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.DeviceState;
import dev.thaw.api.snapshot.GuestInfo;
import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.DescriptorTable;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.LapicState;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PicState;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.api.state.Xcr;
import dev.thaw.api.state.Xcrs;
import dev.thaw.api.state.Xsave;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.function.Executable;

/** Realistic machine states, guest memory with every kind of page, and surgery on written files. */
final class Snapshots {

    private Snapshots() {}

    // ---- machine state ----

    static MachineState state(long seed, List<RegionLayout> memory) {
        Random r = new Random(seed);
        long total = memory.stream().mapToLong(RegionLayout::size).sum();
        BootRequest boot = new BootRequest("vm-" + seed, total, 2, Workload.FUNCTION, seed, 1L << 20, TouchOrder.RANDOM,
                BootRequest.DEFAULT_STRIDE);
        VmArchState vm = new VmArchState(pit(r), new ClockData(r.nextLong() >>> 1, 0x6, r.nextLong() >>> 1, r.nextLong() >>> 1),
                pic(r, 0x08), pic(r, 0x70), ioapic(r));
        List<VcpuState> vcpus = List.of(vcpu(r, 0), vcpu(r, 1));
        List<DeviceState> devices = List.of(
                new DeviceState("uart16550", Map.of("ier", 1, "lcr", 3, "mcr", 11, "scratch", 0,
                        "rx", List.of(104, 105), "dlab", false, "lsr", 0x60)),
                new DeviceState("debug-exit", 2, Map.of("port", 0xf4, "exits", 3_000_000_000L)));
        SessionState session = new SessionState("thaw-test-guest ready\nresult function 0123456789abcdef\n\u00e9t\u00e9",
                1L << 33, 2, 3);
        return new MachineState(new GuestInfo("thaw-test-guest", HexFormat.of().formatHex(bytes(r, 32))), boot, memory, vm,
                vcpus, devices, session);
    }

    private static VcpuState vcpu(Random r, int index) {
        List<CpuidEntry> cpuid = List.of(
                new CpuidEntry(0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65),
                new CpuidEntry(1, 0, 0, 0x00a00f11, index << 24 | 0x800, 0xfed83203L, 0x178bfbffL),
                new CpuidEntry(7, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 0x219c97a9, 0x40069c, 0x10),
                new CpuidEntry(0xd, 1, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0xf, 0x3c0, 0, 0),
                new CpuidEntry(0x80000001L, 0, 0, 0xa00f11, 0, 0x75c237ffL, 0x2fd3fbffL));
        Regs regs = new Regs(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                0x7fff_f000L - 8 * index, 0x7fff_f000L, r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                r.nextLong(), r.nextLong(), r.nextLong(), -1L, 0x40_1000L + r.nextInt(4096), 0x3202);
        Segment code = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 0, 1, 1, 1, 0, 0);
        Segment data = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);
        Segment user = new Segment(0, 0xffff_ffffL, 0x23, 0x3, 1, 3, 1, 1, 0, 1, 0, 0);
        Segment tr = new Segment(0x3000 + 0x68L * index, 0x67, 0x28, 0xb, 1, 0, 0, 0, 0, 0, 0, 0);
        Segment ldt = new Segment(0, 0xffff, 0, 0x2, 0, 0, 0, 0, 0, 0, 0, 1);
        long[] pendingInterrupt = new long[Sregs.INTERRUPT_BITMAP_WORDS];
        pendingInterrupt[0] = index == 1 ? 1L << 0x20 : 0;
        Sregs sregs = new Sregs(code, user, user, data, data, user, tr, ldt, new DescriptorTable(0x1000, 0x37),
                new DescriptorTable(0x2000, 0xfff), 0x8005_0033L, r.nextLong() >>> 16, 0x9000, 0x6a0, 0, 0xd01,
                0xfee0_0900L, pendingInterrupt);
        byte[] lapic = bytes(r, LapicState.REG_BYTES);
        lapic[0x20] = 0;
        lapic[0x21] = 0;
        lapic[0x22] = 0;
        lapic[0x23] = (byte) index;
        List<MsrEntry> msrs = List.of(new MsrEntry(0x10, r.nextLong() >>> 1), new MsrEntry(0x1b, 0xfee0_0900L),
                new MsrEntry(0x174, 0x08), new MsrEntry(0xc000_0080L, 0xd01), new MsrEntry(0xc000_0081L, 0x0023_0008_0000_0000L),
                new MsrEntry(0xc000_0102L, r.nextLong()), new MsrEntry(0x4b56_4d01L, 0x5001 | (long) index << 12));
        VcpuEvents events = new VcpuEvents(new VcpuEvents.ExceptionState(0, 0, 0, 0, 0),
                new VcpuEvents.InterruptState(index, 0x20 * index, 0, 0), new VcpuEvents.NmiState(0, 0, 0), 0, 0x1d,
                new VcpuEvents.SmiState(0, 0, 0, 0), 0, 0, 0);
        return new VcpuState(cpuid, index == 0 ? MpState.RUNNABLE : MpState.HALTED, regs, sregs, new Xsave(bytes(r, 4096)),
                new Xcrs(0, List.of(new Xcr(0, 0x7))), new DebugRegs(0, 0, 0, 0, 0xffff_0ff0L, 0x400, 0),
                new LapicState(lapic), msrs, events, 2_900_000 + r.nextInt(1000));
    }

    private static PitState pit(Random r) {
        List<PitChannelState> channels = new ArrayList<>();
        for (int c = 0; c < PitState.CHANNELS; c++) {
            channels.add(new PitChannelState(c == 0 ? 0x2e9b : 0x10000, 0, 0, 0, 0, 3, 3, 0, 3, c == 0 ? 2 : 3, 0,
                    c == 2 ? 0 : 1, r.nextLong() >>> 1));
        }
        return new PitState(channels, 0);
    }

    private static PicState pic(Random r, int irqBase) {
        return new PicState(0, r.nextInt(256), 0xfb, 0, 0, irqBase, 0, 0, 0, 0, 0, 0, 0, 1, 0, irqBase == 8 ? 0xf8 : 0xde);
    }

    private static IoapicState ioapic(Random r) {
        long[] table = new long[IoapicState.PINS];
        for (int i = 0; i < table.length; i++) {
            table[i] = i == 4 ? 0x24 : 0x10000 | r.nextInt(256);
        }
        return new IoapicState(0xfec0_0000L, 0, 0, 0, table);
    }

    static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    // ---- guest memory ----

    /** What a page holds. */
    enum Kind { ZERO, RANDOM, LAST_BYTE, FIRST_BYTE, CONSTANT }

    /** Guest memory filled page by page; {@link #nonZeroPages} is what a writer must store. */
    record Memory(List<GuestMemory> regions, long nonZeroPages) {

        List<RegionLayout> layouts() {
            return regions.stream().map(GuestMemory::layout).toList();
        }

        long totalPages() {
            return regions.stream().mapToLong(g -> g.layout().size() / Layout.PAGE_SIZE).sum();
        }
    }

    /** Runs of 1 to 40 pages of one kind each, about half of them zero. */
    static Memory memory(Arena arena, long seed, List<RegionLayout> layouts) {
        Random r = new Random(seed);
        List<GuestMemory> regions = new ArrayList<>();
        long nonZero = 0;
        for (RegionLayout layout : layouts) {
            MemorySegment m = arena.allocate(layout.size(), Layout.PAGE_SIZE);
            long pages = layout.size() / Layout.PAGE_SIZE;
            for (long p = 0; p < pages; ) {
                long run = Math.min(pages - p, 1 + r.nextInt(40));
                int pick = r.nextInt(20);
                Kind kind = pick < 9 ? Kind.ZERO : pick < 16 ? Kind.RANDOM : Kind.values()[2 + pick % 3];
                for (long q = p; q < p + run; q++) {
                    fill(m, q, kind, r);
                }
                nonZero += kind == Kind.ZERO ? 0 : run;
                p += run;
            }
            regions.add(new GuestMemory(layout, m));
        }
        return new Memory(List.copyOf(regions), nonZero);
    }

    static void fill(MemorySegment m, long page, Kind kind, Random r) {
        long at = page * Layout.PAGE_SIZE;
        switch (kind) {
            case ZERO -> {}
            case RANDOM -> MemorySegment.copy(bytes(r, Layout.PAGE_SIZE), 0, m, ValueLayout.JAVA_BYTE, at, Layout.PAGE_SIZE);
            case LAST_BYTE -> m.set(ValueLayout.JAVA_BYTE, at + Layout.PAGE_SIZE - 1, (byte) 1);
            case FIRST_BYTE -> m.set(ValueLayout.JAVA_BYTE, at, (byte) 0x80);
            case CONSTANT -> m.asSlice(at, Layout.PAGE_SIZE).fill((byte) 0xa5);
        }
    }

    /** Two regions as on x86: low RAM below a hole, and RAM above 4 GiB. */
    static List<RegionLayout> twoRegions(long lowBytes, long highBytes) {
        return List.of(new RegionLayout("ram-low", 0, lowBytes), new RegionLayout("ram-high", 1L << 32, highBytes));
    }

    /** Reads every page of every region and asserts it equals the memory written. */
    static void assertSameContent(dev.thaw.api.snapshot.SnapshotReader reader, Memory memory) {
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < memory.regions().size(); i++) {
                MemorySegment expected = memory.regions().get(i).memory();
                MemorySegment actual = arena.allocate(expected.byteSize());
                actual.fill((byte) 0x5a);
                reader.readPages(i, 0, expected.byteSize() / Layout.PAGE_SIZE, actual);
                long at = actual.mismatch(expected);
                assertEquals(-1, at, "region " + i + " differs at byte " + at);
            }
        }
    }

    // ---- messages ----

    /** Asserts {@code action} throws a SnapshotException whose one-line message is {@code file: problem}. */
    static SnapshotException assertProblem(Path file, String problem, Executable action) {
        SnapshotException e = assertThrows(SnapshotException.class, action);
        assertEquals(file + ": " + problem, e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        return e;
    }

    static void assertOneLine(Path file, SnapshotException e) {
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    static String hex32(int value) {
        return Layout.hex32(value);
    }

    // ---- file surgery ----

    /** The sections of a written file, read back without the reader under test. */
    record Parsed(long fileLength, long regionTableOffset, int regionCount, long stateOffset, long stateLength,
            List<Entry> entries) {

        long metadataEnd() {
            Entry last = entries.getLast();
            return last.checksumsOffset() + last.pages() * 4;
        }
    }

    record Entry(String name, long guestAddress, long size, long pagesOffset, long presentPages, long bitmapOffset,
            long checksumsOffset) {
        long pages() {
            return size / Layout.PAGE_SIZE;
        }
    }

    static Parsed parse(Path file) throws IOException {
        ByteBuffer h = read(file, 0, Layout.HEADER_SIZE);
        int count = h.getInt(Layout.H_REGION_COUNT);
        long tableOffset = h.getLong(Layout.H_REGION_TABLE_OFFSET);
        ByteBuffer t = read(file, tableOffset, count * Layout.REGION_ENTRY_SIZE);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = i * Layout.REGION_ENTRY_SIZE;
            byte[] name = new byte[t.getInt(at + Layout.R_NAME_LENGTH)];
            t.get(at + Layout.R_NAME, name);
            entries.add(new Entry(new String(name, StandardCharsets.UTF_8), t.getLong(at + Layout.R_GUEST_ADDRESS),
                    t.getLong(at + Layout.R_SIZE), t.getLong(at + Layout.R_PAGES_OFFSET),
                    t.getLong(at + Layout.R_PRESENT_PAGES), t.getLong(at + Layout.R_BITMAP_OFFSET),
                    t.getLong(at + Layout.R_CHECKSUMS_OFFSET)));
        }
        return new Parsed(h.getLong(Layout.H_FILE_LENGTH), tableOffset, count, h.getLong(Layout.H_STATE_OFFSET),
                h.getLong(Layout.H_STATE_LENGTH), List.copyOf(entries));
    }

    static ByteBuffer read(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // keep reading
            }
            return b.flip();
        }
    }

    static void write(Path file, long offset, ByteBuffer data) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            data.rewind();
            while (data.hasRemaining()) {
                ch.write(data, offset + data.position());
            }
        }
    }

    static int crc(ByteBuffer b, int offset, int length) {
        return Layout.crc32c(b.array(), offset, length);
    }

    /** XORs the byte at {@code offset} with 0xff; returns the original byte. */
    static byte flip(Path file, long offset) throws IOException {
        ByteBuffer b = read(file, offset, 1);
        byte old = b.get(0);
        write(file, offset, ByteBuffer.wrap(new byte[] {(byte) ~old}));
        return old;
    }

    static void truncate(Path file, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(length);
        }
    }

    /** Rewrites a header field and the header checksum. */
    static void patchHeader(Path file, java.util.function.Consumer<ByteBuffer> change) throws IOException {
        ByteBuffer h = read(file, 0, Layout.HEADER_SIZE);
        change.accept(h);
        h.putInt(Layout.H_CRC, crc(h, 0, Layout.H_CRC));
        write(file, 0, h);
    }

    /** Rewrites a region table entry and every checksum that covers it. */
    static void patchEntry(Path file, int region, java.util.function.Consumer<ByteBuffer> change) throws IOException {
        Parsed p = parse(file);
        ByteBuffer t = read(file, p.regionTableOffset(), p.regionCount() * Layout.REGION_ENTRY_SIZE);
        change.accept(t.slice(region * Layout.REGION_ENTRY_SIZE, Layout.REGION_ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN));
        write(file, p.regionTableOffset(), t);
        int tableCrc = crc(t, 0, t.capacity());
        patchHeader(file, h -> h.putInt(Layout.H_REGION_TABLE_CRC, tableCrc));
    }

    /** Replaces the state JSON (it must fit in the space before the next section) and fixes its checksums. */
    static void patchState(Path file, java.util.function.UnaryOperator<String> change) throws IOException {
        Parsed p = parse(file);
        String json = StandardCharsets.UTF_8.decode(read(file, p.stateOffset(), (int) p.stateLength())).toString();
        byte[] changed = change.apply(json).getBytes(StandardCharsets.UTF_8);
        assertTrue(p.stateOffset() + changed.length <= p.entries().getFirst().bitmapOffset(), "patched state fits");
        write(file, p.stateOffset(), ByteBuffer.wrap(changed));
        int stateCrc = Layout.crc32c(changed, 0, changed.length);
        patchHeader(file, h -> h.putLong(Layout.H_STATE_LENGTH, changed.length).putInt(Layout.H_STATE_CRC, stateCrc));
    }
}

package dev.thaw.restore.impl;

import dev.thaw.api.restore.HostRegion;
import dev.thaw.api.snapshot.GuestInfo;
import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SessionState;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.PicState;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotWriter;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Real snapshot files, real anonymous guest memory, and "vCPUs" that touch it from native code. */
final class Fixture implements AutoCloseable {

    static final int PAGE = 4096;

    final Path file;
    final Arena arena = Arena.ofShared();
    /** What each region holds, in Java memory (never guest memory). */
    final List<MemorySegment> expected = new ArrayList<>();
    final List<Mapping> guest = new ArrayList<>();
    final SnapshotReader reader;
    final long pages;

    /** A snapshot of regions of {@code sizes} bytes: runs of 1 to 40 pages, about 40% zero. */
    Fixture(Path dir, long seed, long... sizes) {
        this(dir, seed, null, 0, sizes);
    }

    /**
     * As {@link #Fixture(Path, long, long...)}, with runs zero in region i with odds {@code zeroTenths[i]} in 10
     * (4 for every region if null), and each region's guest memory aligned to {@code alignment} if not 0.
     */
    Fixture(Path dir, long seed, int[] zeroTenths, long alignment, long... sizes) {
        file = dir.resolve("snap-" + seed + ".thaw");
        Random r = new Random(seed);
        List<RegionLayout> layouts = new ArrayList<>();
        List<GuestMemory> memory = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < sizes.length; i++) {
            RegionLayout layout = new RegionLayout("ram" + i, i == 0 ? 0 : (1L << 32) * i, sizes[i]);
            MemorySegment m = arena.allocate(sizes[i], PAGE);
            byte[] page = new byte[PAGE];
            for (long p = 0; p < sizes[i] / PAGE; ) {
                long run = Math.min(sizes[i] / PAGE - p, 1 + r.nextInt(40));
                boolean zero = r.nextInt(10) < (zeroTenths == null ? 4 : zeroTenths[i]);
                for (long q = p; q < p + run && !zero; q++) {
                    r.nextBytes(page);
                    MemorySegment.copy(page, 0, m, ValueLayout.JAVA_BYTE, q * PAGE, PAGE);
                }
                p += run;
            }
            layouts.add(layout);
            memory.add(new GuestMemory(layout, m));
            expected.add(m);
            total += sizes[i];
        }
        BootRequest boot = new BootRequest("vm-" + seed, total, 1, Workload.FUNCTION, seed, 1L << 20, TouchOrder.RANDOM,
                BootRequest.DEFAULT_STRIDE);
        List<PitChannelState> channels = new ArrayList<>();
        for (int c = 0; c < PitState.CHANNELS; c++) {
            channels.add(new PitChannelState(0x10000, 0, 0, 0, 0, 3, 3, 0, 3, 3, 0, 1, 0));
        }
        VmArchState vm = new VmArchState(new PitState(channels, 0), new ClockData(seed, 0, 0, 0),
                new PicState(0, 0, 0xfb, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xf8),
                new PicState(0, 0, 0xfb, 0, 0, 0x70, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xde),
                new IoapicState(0xfec0_0000L, 0, 0, 0, new long[IoapicState.PINS]));
        MachineState state = new MachineState(new GuestInfo("restore-test", "00"), boot, layouts, vm, List.of(),
                List.of(), new SessionState("", 0, 0, 0));
        new ThawSnapshotWriter().write(file, state, memory, (done, all) -> {});
        reader = new ThawSnapshotFormat().open(file);
        long n = 0;
        for (long s : sizes) {
            int prot = Libc.PROT_READ | Libc.PROT_WRITE;
            int flags = Libc.MAP_PRIVATE | Libc.MAP_NORESERVE;
            guest.add(alignment == 0 ? Mapping.anonymous(s, prot, flags) : Mapping.aligned(s, alignment, prot, flags));
            n += s / PAGE;
        }
        pages = n;
    }

    List<HostRegion> hostRegions() {
        return guest.stream().map(m -> new HostRegion(m.address(), m.size())).toList();
    }

    /** Page {@code page} (all regions) of the guest, for native access only until the restore ends. */
    MemorySegment guestPage(long page) {
        for (Mapping m : guest) {
            long n = m.size() / PAGE;
            if (page < n) {
                return m.segment().asSlice(page * PAGE, PAGE);
            }
            page -= n;
        }
        throw new IllegalArgumentException("page " + page);
    }

    MemorySegment expectedPage(long page) {
        for (MemorySegment m : expected) {
            long n = m.byteSize() / PAGE;
            if (page < n) {
                return m.asSlice(page * PAGE, PAGE);
            }
            page -= n;
        }
        throw new IllegalArgumentException("page " + page);
    }

    boolean isZero(long page) {
        MemorySegment e = expectedPage(page);
        for (long i = 0; i < PAGE; i += 8) {
            if (e.get(ValueLayout.JAVA_LONG, i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether the page is mapped (present) in the process: /proc/self/pagemap bit 63; no access to it. */
    boolean resident(long page) throws IOException {
        long address = guestPage(page).address();
        try (var ch = java.nio.channels.FileChannel.open(Path.of("/proc/self/pagemap"))) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(b, address / PAGE * 8);
            return (b.getLong(0) & (1L << 63)) != 0;
        }
    }

    /**
     * A "vCPU": a platform thread that touches {@code pages} in order through write(2) of 8 bytes of each
     * into a file, so the fault happens in the kernel while the thread is in native code.
     */
    static final class Toucher {
        final Thread thread;
        final CompletableFuture<Integer> tid = new CompletableFuture<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Toucher(Fixture f, Path out, List<Long> pages) throws IOException {
            this(f, out, pages, new java.util.concurrent.CountDownLatch(0));
        }

        /** Starts touching once {@code go} opens. */
        Toucher(Fixture f, Path out, List<Long> pages, java.util.concurrent.CountDownLatch go) throws IOException {
            this(f::guestPage, out, pages, go);
        }

        /** Touches the pages {@code pageOf} gives (another guest's than the fixture's), once {@code go} opens. */
        Toucher(java.util.function.LongFunction<MemorySegment> pageOf, Path out, List<Long> pages,
                java.util.concurrent.CountDownLatch go) throws IOException {
            Files.createFile(out);
            int fd = Libc.open(out.toString(), 1 /* O_WRONLY */ | Libc.O_CLOEXEC);
            thread = Thread.ofPlatform().daemon().name("toucher-" + out.getFileName()).start(() -> {
                tid.complete(Libc.gettid());
                try {
                    go.await();
                    for (long p : pages) {
                        Libc.write(fd, pageOf.apply(p).asSlice(8 * (p % 500), 8));
                    }
                    done.complete(null);
                } catch (ErrnoException | InterruptedException e) {
                    done.completeExceptionally(e);
                } finally {
                    Libc.close(fd);
                }
            });
        }

        int tid() throws Exception {
            return tid.get(5, TimeUnit.SECONDS);
        }
    }

    /** After the restore ended: every page equals the snapshot (zeros for holes). */
    void assertAllPagesEqual() {
        for (long p = 0; p < pages; p++) {
            long at = guestPage(p).mismatch(expectedPage(p));
            if (at != -1) {
                throw new AssertionError("page " + p + " differs at byte " + at);
            }
        }
    }

    static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Override
    public void close() {
        reader.close();
        guest.forEach(Mapping::close);
        arena.close();
    }
}

package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.GuestMemory;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that fails or is killed half way leaves the target as it was: the old file intact, no
 * temporary file left behind (after a failure) and nothing at the target that looks valid but is not.
 */
@Timeout(60)
class ThawSnapshotWriteSafetyTest {

    /** 192 MiB: progress is told every 64 MiB, so "half way" falls between two reports. */
    private static final long SIZE = 192L << 20;
    private static final List<RegionLayout> LAYOUTS = List.of(new RegionLayout("ram0", 0, SIZE));

    @TempDir
    Path dir;

    final ThawSnapshotWriter writer = new ThawSnapshotWriter();
    Path target;
    byte[] old;

    @BeforeEach
    void anOldSnapshotIsInPlace() throws Exception {
        target = dir.resolve("vm.thaw");
        old = "the previous snapshot, which must survive".getBytes(StandardCharsets.US_ASCII);
        Files.write(target, old);
    }

    private void assertOldFileIntactAndNoTempLeft() throws Exception {
        assertArrayEquals(old, Files.readAllBytes(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    private static MemorySegment someData(Arena arena) {
        MemorySegment m = arena.allocate(SIZE, 4096);
        for (long at = 0; at < SIZE; at += 1L << 20) { // one non-zero page per MiB
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, at + 8, at | 1);
        }
        return m;
    }

    @Test
    void aProgressThatThrowsHalfWay() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = someData(arena);
            MachineState state = Snapshots.state(1, LAYOUTS);
            SnapshotException e = assertThrows(SnapshotException.class, () -> writer.write(target, state,
                    List.of(new GuestMemory(LAYOUTS.getFirst(), m)), (done, total) -> {
                        if (done >= total / 2) {
                            throw new IllegalStateException("cancelled by the user");
                        }
                    }));
            assertEquals(target + ": stopped after 134217728 of 201326592 bytes of memory: "
                    + "java.lang.IllegalStateException: cancelled by the user", e.getMessage());
        }
        assertOldFileIntactAndNoTempLeft();
    }

    @Test
    void memoryThatFailsHalfWay() throws Exception {
        Arena arena = Arena.ofConfined();
        MemorySegment m = someData(arena);
        MachineState state = Snapshots.state(2, LAYOUTS);
        // Closing the memory's arena makes every later access to it throw, as unmapped guest memory would.
        SnapshotException e = assertThrows(SnapshotException.class, () -> writer.write(target, state,
                List.of(new GuestMemory(LAYOUTS.getFirst(), m)), (done, total) -> {
                    if (done >= total / 2 && arena.scope().isAlive()) {
                        arena.close();
                    }
                }));
        assertTrue(e.getMessage().startsWith(target + ": stopped after 134217728 of 201326592 bytes of memory: "
                + "java.lang.IllegalStateException: Already closed"), e.getMessage());
        assertOldFileIntactAndNoTempLeft();
    }

    @Test
    void aDirectoryInTheWay() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("taken.thaw"));
        Files.writeString(folder.resolve("inside"), "x");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(1L << 20);
            List<RegionLayout> layouts = List.of(new RegionLayout("ram0", 0, 1L << 20));
            SnapshotException e = assertThrows(SnapshotException.class, () -> writer.write(folder,
                    Snapshots.state(3, layouts), List.of(new GuestMemory(layouts.getFirst(), m)), Progress.NONE));
            assertTrue(e.getMessage().matches(Pattern.quote(folder + ": cannot rename .taken.thaw.tmp-")
                    + "[0-9a-f]{8} into place: .+"), e.getMessage());
        }
        assertArrayEquals(old, Files.readAllBytes(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(folder, target), files.sorted().toList());
        }
        try (Stream<Path> files = Files.list(folder)) {
            assertEquals(List.of(folder.resolve("inside")), files.toList());
        }
    }

    /**
     * A real kill: another JVM writes over the target and is killed with SIGKILL half way. The target is
     * untouched; the temporary file it leaves has no header yet, so no reader takes it for a snapshot.
     */
    @Test
    void aWriterKilledHalfWay() throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                WriteUntilKilled.class.getName(), target.toString(), Long.toString(SIZE))
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals(WriteUntilKilled.HALF_WAY, line, "the child's first line");
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        }
        assertArrayEquals(old, Files.readAllBytes(target));
        List<Path> left;
        try (Stream<Path> files = Files.list(dir)) {
            left = files.filter(p -> !p.equals(target)).toList();
        }
        assertEquals(1, left.size(), "the killed writer's temporary file: " + left);
        Path temp = left.getFirst();
        assertTrue(temp.getFileName().toString().matches("\\.vm\\.thaw\\.tmp-[0-9a-f]{8}"), temp.toString());
        Snapshots.assertProblem(temp, "not a Thaw snapshot (it starts with 00 00 00 00 00 00 00 00, not THAWSNAP)",
                () -> new ThawSnapshotFormat().open(temp));
    }

    /** The killed writer: writes a snapshot over its first argument and stops half way, waiting to be killed. */
    public static final class WriteUntilKilled {

        static final String HALF_WAY = "half way";

        public static void main(String[] args) throws Exception {
            Path target = Path.of(args[0]);
            long size = Long.parseLong(args[1]);
            List<RegionLayout> layouts = List.of(new RegionLayout("ram0", 0, size));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = arena.allocate(size, 4096);
                for (long at = 0; at < size; at += 4096 * 3) {
                    m.set(ValueLayout.JAVA_LONG_UNALIGNED, at, at | 1);
                }
                Progress halfWay = (done, total) -> {
                    if (done >= total / 2) {
                        System.out.println(HALF_WAY);
                        System.out.flush();
                        try {
                            Thread.sleep(60_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                };
                new ThawSnapshotWriter().write(target, Snapshots.state(4, layouts), List.of(new GuestMemory(layouts.getFirst(), m)),
                        halfWay);
            }
            System.out.println("not killed");
        }
    }

    @Test
    void aCompleteWriteReplacesTheOldFile() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = someData(arena);
            writer.write(target, Snapshots.state(5, LAYOUTS), List.of(new GuestMemory(LAYOUTS.getFirst(), m)), Progress.NONE);
            try (SnapshotReader reader = new ThawSnapshotFormat().open(target)) {
                assertEquals(SIZE / (1L << 20), reader.regions().getFirst().presentPages());
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }
}

package dev.thaw.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;

/**
 * What the process holds, as the kernel and the JVM count it, before and after a test repeats something
 * that must release all it takes: open file descriptors ({@code /proc/self/fd}), memory mappings
 * ({@code /proc/self/maps}) and live Java threads.
 *
 * <p>What was opened, mapped or started and is still there afterwards is compared exactly: file
 * descriptors (by number and what they name), mappings of files under the test's folder, and threads.
 * Those that went away are not counted: the collector may close a channel another test forgot. The count
 * of all mappings is compared loosely: the JVM's own heap and code cache commit and release memory as
 * they like, which moves it by one or two with nothing else happening (203, 204, 203 over rounds of a loop
 * that only opens and closes one file). So it may grow by at most {@link #MAPPING_NOISE}, and the action
 * must be repeated more often than that, so that a leak of one mapping each time shows. That holds for
 * mappings the kernel keeps apart (of files, or with their own permissions or guard pages); adjacent
 * anonymous mappings of the same permissions it merges into one line, so a leak of those (1 MiB
 * allocations kept alive, tried) does not show in the count.
 */
public final class ProcessResources {

    /** Mappings the JVM itself adds during a test, at most. */
    public static final int MAPPING_NOISE = 8;

    /**
     * What the process holds at one moment: each file descriptor's number with what it names, the number
     * of mappings, the mappings of files under the folder asked about, and the live Java threads.
     */
    public record Held(Set<String> fds, long mappings, Set<String> folderMappings, Set<Thread> threads) {}

    private ProcessResources() {}

    /** What the process holds now; {@code folder} names the files whose mappings are listed. */
    public static Held now(Path folder) throws IOException {
        Set<String> fds = fds();
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        String under = " " + folder.toRealPath() + "/";
        Set<String> folderMappings = maps.stream().filter(line -> line.contains(under)).collect(Collectors.toSet());
        Set<Thread> threads = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).collect(Collectors.toSet());
        return new Held(fds, maps.size(), folderMappings, threads);
    }

    /** Each open file descriptor's number with what it names ({@code "7 -> /tmp/vm.thaw"}). */
    public static Set<String> fds() throws IOException {
        Set<String> fds = new HashSet<>();
        try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    fds.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // the listing's own descriptor, closed by now
                }
            }
        }
        return fds;
    }

    /**
     * Runs {@code action} {@code times} times and asserts it left nothing behind: no file descriptor, no
     * mapping of a file under {@code folder}, no Java thread opened or started and still there, and no
     * more mappings than the JVM's noise. Run {@code action} once before, so that what class loading
     * opens is not counted.
     */
    public static void assertNothingLeftBy(Path folder, int times, Executable action) throws Throwable {
        assertTrue(times > MAPPING_NOISE, "repeat more than " + MAPPING_NOISE + " times, so that one mapping a time shows");
        Held before = now(folder);
        for (int i = 0; i < times; i++) {
            action.execute();
        }
        Held after = now(folder);
        assertEquals(Set.of(), added(before.fds(), after.fds()), "file descriptors left open by " + times + " runs");
        assertEquals(Set.of(), added(before.folderMappings(), after.folderMappings()), "mappings of files under " + folder
                + " left by " + times + " runs");
        assertEquals(Set.of(), added(before.threads(), after.threads()).stream().map(Thread::getName).collect(Collectors.toSet()),
                "threads started by " + times + " runs and still running");
        assertTrue(after.mappings() - before.mappings() <= MAPPING_NOISE, "mappings grew from " + before.mappings()
                + " to " + after.mappings() + " in " + times + " runs");
    }

    private static <T> Set<T> added(Set<T> before, Set<T> after) {
        Set<T> added = new HashSet<>(after);
        added.removeAll(before);
        return added;
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway boot, snapshot, eager and lazy restore of a tiny guest when the machine service
 * activates, on a background thread and outside the VM list. It loads and links everything on that
 * path (the state's JSON mapping, the format reader, the restore engine, device state), so that the
 * first restore a user asks for costs about what later ones do: in a fresh platform here it took
 * about 280 ms before, 5 to 10 ms after. A failure is logged and changes nothing else.
 */
final class Warmup {

    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

    static final String NAME = "thaw-warmup";
    static final long MEMORY = 16L << 20;
    static final long WORKING_SET = 64L << 10;
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Warmup() {}

    static void run(GuestVm.Parts parts, SnapshotFormats formats, LazyRestorer restorer, Optional<PagePolicy> policy) {
        long start = System.nanoTime();
        Path dir = null;
        try {
            dir = Files.createTempDirectory(NAME);
            Path file = dir.resolve("guest.snap");
            BootPlan plan = BootPlan.of(NAME, new BootRequest(null, MEMORY, 1, Workload.FUNCTION, 1, WORKING_SET,
                    TouchOrder.SEQUENTIAL, BootRequest.DEFAULT_STRIDE), parts.image());
            GuestVm original = GuestVm.boot(plan, parts, vm -> {}, System.nanoTime());
            try {
                original.awaitLine("result function", 0, TIMEOUT);
                original.snapshot(file, false, Progress.NONE);
            } finally {
                original.stop();
            }
            restoreAndInvoke(plan, parts, formats, file, reader -> MemoryLoader.eager(reader, Progress.NONE), true);
            if (policy.isPresent()) {
                restoreAndInvoke(plan, parts, formats, file,
                        reader -> MemoryLoader.lazy(restorer, reader, policy.get(), 1, false,
                                RestoreRequest.profileBeside(reader.file())), false);
            }
            LOG.debug("restore path warmed up in {} ms", (System.nanoTime() - start) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            LOG.info("warming up the restore path failed ({}); the first restore will take longer", e.toString());
        } finally {
            if (dir != null) {
                delete(dir);
            }
        }
    }

    private static void restoreAndInvoke(BootPlan plan, GuestVm.Parts parts, SnapshotFormats formats, Path file,
            java.util.function.Function<SnapshotReader, MemoryLoader> loaderFor, boolean closeReader) {
        SnapshotReader reader = formats.open(file);
        boolean handedOver = false; // a lazily restored VM closes its reader when it stops
        try {
            MachineState state = reader.state().orElseThrow();
            GuestVm copy = GuestVm.restore(plan, parts, state, loaderFor.apply(reader), vm -> {}, System.nanoTime());
            handedOver = !closeReader;
            try {
                copy.invoke(TIMEOUT);
            } finally {
                copy.stop();
            }
        } finally {
            if (!handedOver) {
                reader.close();
            }
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.info("cannot remove {}: {}", dir, e.getMessage());
        }
    }
}

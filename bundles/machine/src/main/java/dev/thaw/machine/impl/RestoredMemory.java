package dev.thaw.machine.impl;

import dev.thaw.api.restore.LazyRestore;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.VmException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A restored VM's memory while a lazy restore loads it: waiting for it, its working-set profile, and its
 * figures, which stay after the restore is released.
 */
final class RestoredMemory {

    private static final Logger LOG = LoggerFactory.getLogger(RestoredMemory.class);
    /** How long a snapshot waits for a lazy restore to bring in the rest of memory. */
    static final Duration FULL_LOAD_TIMEOUT = Duration.ofMinutes(10);
    /** How often {@link #awaitLoaded} reports progress. */
    static final long PROGRESS_PERIOD_MILLIS = 50;
    /** The restore engine's page: its figures count pages of this size. */
    private static final long PAGE_SIZE = 4096;

    private final String vmId;
    /** The lazy restore while it may still be loading, null once released. */
    private volatile LazyRestore lazy;
    /** Read until every page is in; closed with the lazy restore. Null where a fleet holds it. */
    private SnapshotReader reader;
    /** The lazy restore's figures once it completed or was released. */
    private volatile RestoreStats finalStats;

    RestoredMemory(String vmId, SnapshotReader reader, LazyRestore lazy) {
        this.vmId = vmId;
        this.reader = reader;
        this.lazy = lazy;
    }

    /** The resume point: every vCPU runs, memory still arriving. */
    void resumed() {
        LazyRestore l = lazy;
        if (l != null) {
            l.resumed();
        }
    }

    Optional<RestoreStats> stats() {
        LazyRestore l = lazy;
        return l == null ? Optional.ofNullable(finalStats) : Optional.of(l.stats());
    }

    Optional<RestoreStats> awaitLoaded(Duration timeout, Progress progress) {
        LazyRestore l = lazy;
        if (l == null) {
            return stats(); // released already
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return Optional.of(reported(l.completion().get(PROGRESS_PERIOD_MILLIS, TimeUnit.MILLISECONDS), progress));
            } catch (TimeoutException e) {
                reported(l.stats(), progress);
                if (System.nanoTime() > deadline) {
                    throw new VmException(vmId + ": memory still loading after " + timeout.toSeconds() + " s");
                }
            } catch (ExecutionException e) {
                return Optional.of(l.stats()); // failed or closed: the figures say so
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new VmException(vmId + ": interrupted while waiting for its memory");
            }
        }
    }

    private static RestoreStats reported(RestoreStats s, Progress progress) {
        progress.update(s.loadedPages() * PAGE_SIZE, s.presentPages() * PAGE_SIZE);
        return s;
    }

    Path saveProfile() {
        LazyRestore l = lazy;
        if (l == null || !l.recording()) {
            throw new VmException(vmId + " is not recording a working-set profile (restore it with --record-profile)");
        }
        return l.saveProfile();
    }

    /** The first invocation after a recording restore is complete: its touches are the working set. */
    void invocationDone() {
        LazyRestore l = lazy;
        if (l != null && l.recording()) {
            Path profile = l.saveProfile();
            LOG.info("{}: working-set profile saved to {}", vmId, profile);
        }
    }

    /** Loads every page still missing and waits for it, as a snapshot of the VM needs. */
    void awaitFullLoad() {
        LazyRestore l = lazy;
        if (l == null) {
            return;
        }
        if (l.recording()) {
            l.saveProfile(); // the touches so far are the working set; loading the rest ends the recording
        }
        l.loadRemaining();
        try {
            finalStats = l.completion().get(FULL_LOAD_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new VmException(vmId + ": memory still loading after " + FULL_LOAD_TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new VmException(vmId + ": its memory could not be loaded: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException(vmId + ": interrupted while its memory loads");
        }
    }

    /** Releases the lazy restore and its reader, keeping the figures. Call once the vCPUs have stopped. Idempotent. */
    synchronized void close() {
        LazyRestore l = lazy;
        if (l != null) {
            finalStats = l.stats();
            l.close();
            lazy = null;
        }
        if (reader != null) {
            reader.close();
            reader = null;
        }
    }
}

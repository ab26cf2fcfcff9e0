package dev.thaw.bench.impl;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.bench.impl.QemuPeer.QemuException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The postcopy rows of {@code thaw:bench qemu-file}: a destination QEMU started with the command line of
 * QEMU's own row ({@link QemuFileLoad#machineOptions()}, stopped with {@code -S}), plus {@code postcopy-ram}
 * and {@code migrate-incoming unix:PATH}, served the file by the {@link PostcopyServer} with one policy.
 *
 * <p>QEMU places every page itself (UFFDIO_COPY, or UFFDIO_ZEROPAGE for a zero page) into its guest memory,
 * which maps it: a page placed is a page touched once, as a page QEMU's own load preads into guest memory is.
 */
final class PostcopyLoad {

    static final String PREFIX = "postcopy ";

    /**
     * One round's figures.
     *
     * @param resumeMs from the start of serving to the destination's word that its device state is loaded
     * @param completeMs from the same start to its word that every page is placed
     * @param pagesSent pages sent, all RAM blocks, zero pages included
     * @param pagesRequested pages the destination asked for (QEMU itself: no vCPU runs)
     * @param requests its page requests
     * @param bytesSent bytes written to the destination
     */
    record Figures(double resumeMs, double completeMs, long pagesSent, long pagesRequested, long requests, long bytesSent) {}

    private PostcopyLoad() {}

    /**
     * Serves {@code load}'s file with {@code policy} to a fresh destination QEMU until it has every page; QEMU
     * is killed in every case.
     *
     * @throws QemuException when QEMU or the serve fails, says no or does not finish in time
     */
    static Figures serveOnce(PostcopyServer server, QemuFileLoad load, String policy) throws IOException {
        List<String> args = new ArrayList<>(load.machineOptions());
        args.addAll(List.of("-incoming", "defer"));
        try (QemuProcess destination = new QemuProcess(args)) {
            destination.enableCapabilities("postcopy-ram", "events");
            String address = "unix:" + destination.socketPath("incoming");
            // QEMU listens when migrate-incoming returns
            destination.execute("migrate-incoming", Map.of("uri", address));
            RestoreStats stats;
            long bytes;
            try (PostcopyServe serve = server.serve(new ServeRequest(load.file(), load.offset(), address, policy, Map.of()))) {
                stats = serve.completion().get(QemuPeer.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                bytes = serve.bytesSent();
            } catch (ExecutionException e) {
                throw destination.failure("serving with " + policy + ": " + e.getCause().getMessage());
            } catch (TimeoutException e) {
                throw destination.failure("serving with " + policy + " did not complete within " + QemuPeer.TIMEOUT.toSeconds() + " s");
            } catch (RuntimeException e) {
                throw destination.failure("serving with " + policy + ": " + e.getMessage());
            }
            destination.awaitMigrationCompleted(); // QEMU's own word, after the source's
            return new Figures(stats.resumeLatency() / 1e6, stats.fullLoadTime() / 1e6,
                    stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground(), stats.pagesFault(), stats.faults(), bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while serving " + load.file() + " with " + policy);
        }
    }
}

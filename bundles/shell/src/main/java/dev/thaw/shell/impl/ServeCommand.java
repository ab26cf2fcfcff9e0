package dev.thaw.shell.impl;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreStats;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.felix.service.command.CommandSession;

/**
 * {@code thaw:restore --serve ADDRESS FILE}: serves a QEMU mapped-ram file to an incoming QEMU the user started
 * (docs/qemu-postcopy.md, "Serving your own QEMU"), with a progress bar of the pages sent, until the destination
 * says every page is placed; then its figures.
 */
final class ServeCommand {

    static final long POLL_MILLIS = 100;
    static final int PAGE_SIZE = 4096;

    private ServeCommand() {}

    /** The options of a restore that make no sense for a serve, each with why; empty if there are none. */
    static List<String> conflicts(boolean eager, String name, String runtime) {
        List<String> why = new ArrayList<>();
        if (eager) {
            why.add("--eager (the destination QEMU loads lazily; for an eager load give it the file with migrate-incoming file:)");
        }
        if (!name.isEmpty()) {
            why.add("--name (the VM is the destination QEMU's, not Thaw's)");
        }
        if (!runtime.isEmpty()) {
            why.add("--runtime (the destination QEMU is the runtime)");
        }
        return why;
    }

    /** Address {@code unix:PATH} with a relative PATH taken from the session's folder, as file arguments are. */
    static String address(CommandSession session, String text) {
        if (text.startsWith("unix:") && text.length() > "unix:".length()) {
            return "unix:" + Arguments.file(session, text.substring("unix:".length()));
        }
        return text;
    }

    /**
     * What to serve: the snapshot's working-set profile ({@code profile}, where a restore of it reads and records
     * one) read for the policy, or with {@code record} recorded into it from the destination's page requests
     * instead, as a recording restore does (docs/working-set-profile.md).
     */
    static ServeRequest request(Path file, long offset, String address, String policy, Path profile, boolean record) {
        return new ServeRequest(file, offset, address, policy, Map.of(), record ? null : profile, record ? profile : null);
    }

    /** Serves until the destination completes; prints the summary (or JSON); a failure throws its one line. */
    static void run(PostcopyServer server, ServeRequest request, PrintStream out, boolean asJson) {
        long start = System.nanoTime();
        PostcopyServe serve = server.serve(request);
        RestoreStats s;
        ProgressBar bar = new ProgressBar("serve to " + request.destination(), System.err);
        try {
            s = await(serve, bar);
        } finally {
            bar.finish();
            serve.close();
        }
        double elapsedMs = (System.nanoTime() - start) / 1e6;
        if (asJson) {
            Map<String, Object> m = StatsCommands.json(serve.id(), "qemu", s);
            m.put("file", serve.file().toAbsolutePath().toString());
            m.put("destination", serve.destination());
            m.put("bytesSent", serve.bytesSent());
            m.put("completedMs", Math.round(elapsedMs * 10) / 10.0);
            m.put("profile", String.valueOf(request.recordProfileTo() != null ? request.recordProfileTo() : request.profile()));
            serve.savedProfile().ifPresent(p -> m.put("profileWritten", p.toString()));
            m.put("warnings", serve.warnings());
            out.println(StatsCommands.toJson(m));
            return;
        }
        out.printf("%s: served %s to %s (policy %s): the destination completed %.1f ms after the command%n", serve.id(),
                serve.file(), serve.destination(), s.policy(), elapsedMs);
        out.printf("  %d pages sent (%d read from the file, the rest as zero records), %s on the wire: %d requested, "
                + "%d prefetched, %d in the policy's order%n", s.pages(), s.loadedPages(), Sizes.format(serve.bytesSent()),
                s.pagesFault(), s.pagesPrefetch(), s.pagesBackground());
        out.printf("  %d page requests served, request to page sent p50 %.2f ms, p99 %.2f ms%n", s.faults(),
                s.faultLatencyP50() / 1e6, s.faultLatencyP99() / 1e6);
        out.printf("  the destination had its device state %.1f ms into the stream (its vCPUs start then, unless it has "
                + "-S); every page placed at %.1f ms%n", s.resumeLatency() / 1e6, s.fullLoadTime() / 1e6);
        if (s.policyErrors() > 0) {
            out.printf("  policy errors: %d (%s)%n", s.policyErrors(), s.policyProblem());
        }
        serve.savedProfile().ifPresent(p -> out.printf("  working-set profile of the %d pages the destination asked for "
                + "written to %s%n", s.pagesFault(), p));
        serve.warnings().forEach(w -> out.printf("  warning: %s%n", w));
        out.printf("  thaw:stats %s shows its figures%n", serve.id());
    }

    private static RestoreStats await(PostcopyServe serve, ProgressBar bar) {
        while (true) {
            try {
                return serve.completion().get(POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                RestoreStats now = serve.stats();
                long sent = now.pagesFault() + now.pagesPrefetch() + now.pagesBackground();
                bar.update(sent * PAGE_SIZE, now.pages() * PAGE_SIZE);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r; // the serve's one line
                }
                throw new RestoreException(serve.id() + ": " + e.getCause(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RestoreException(serve.id() + ": serving " + serve.file() + " to " + serve.destination()
                        + " interrupted after " + serve.stats().loadedPages() + " pages read; the destination is left to its owner");
            }
        }
    }
}

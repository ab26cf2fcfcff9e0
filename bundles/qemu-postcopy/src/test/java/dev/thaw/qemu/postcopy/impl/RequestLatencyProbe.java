package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.support.qemu.QmpClient;
import dev.thaw.testing.ConfigProxy;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A measurement, not a check (it runs only when {@code -Dthaw.probe.file=PATH} is given): how long a page the
 * destination asks for waits while the background stream is in full flow. A microvm QEMU with 1 GiB, 512 MiB of
 * it random data from 16 MiB on, is saved to PATH (if PATH does not exist yet); then, per round, a stopped
 * destination is served the file with {@code sequential}, and while the background goes its monitor reads one
 * byte of a page not yet sent ({@code xp}, which faults in QEMU's main thread and so asks the source for the
 * page): the monitor's round trip is the request's whole wait as QEMU sees it. Prints those, the source's own
 * request latency figures and the full load.
 *
 * <pre>
 * mvn -B -ntp -o -pl bundles/qemu-postcopy -am test -Dthaw.fuzz.phase=none -Dtest=RequestLatencyProbe \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dthaw.probe.file=/tmp/probe-1g.mr [-Dthaw.probe.rounds=3] \
 *     [-Dthaw.probe.channel=tcp] [-Dthaw.probe.reads=40] [-Dthaw.probe.gib=4] [-Dthaw.probe.zero=on-request|both]
 * </pre>
 *
 * <p>{@code thaw.probe.gib} is the guest's RAM for a file made now; {@code thaw.probe.zero} serves zero pages on
 * request ({@code both}: each round once each way); each round also times QEMU's own eager load of the file.
 */
class RequestLatencyProbe {

    /** Monitor reads per round; {@code -Dthaw.probe.reads=0} measures the full load alone. */
    static final int READS = Integer.getInteger("thaw.probe.reads", 40);
    static final long RAM = Long.getLong("thaw.probe.gib", 1) << 30;
    static final String ZERO = System.getProperty("thaw.probe.zero", "sent");
    static final long RANDOM_AT = 16L << 20;
    static final long RANDOM_BYTES = 512L << 20;
    static final List<String> MACHINE = List.of("qemu-system-x86_64", "-accel", "tcg", "-M", "microvm", "-m",
            (RAM >> 30) + "G", "-nodefaults", "-display", "none");

    @Test
    void requestLatencyUnderTheBackgroundStream() throws Exception {
        String where = System.getProperty("thaw.probe.file");
        Assumptions.assumeTrue(where != null, "a measurement: -Dthaw.probe.file=PATH runs it");
        Path file = Path.of(where);
        Path dir = Files.createTempDirectory("thaw-probe");
        try {
            if (!Files.exists(file)) {
                make(file, dir);
            }
            int rounds = Integer.getInteger("thaw.probe.rounds", 3);
            for (int round = 0; round < rounds; round++) {
                eager(file, dir, round);
                if (!ZERO.equals("on-request")) {
                    round(file, dir, round, false);
                }
                if (!ZERO.equals("sent")) {
                    round(file, dir, round, true);
                }
            }
        } finally {
            try (var files = Files.list(dir)) { // the monitors' sockets and QEMU's output
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** QEMU's own load of the file into a stopped QEMU: from migrate-incoming to completed. */
    private static void eager(Path file, Path dir, int round) throws Exception {
        List<String> args = new ArrayList<>(MACHINE);
        args.addAll(List.of("-S", "-incoming", "defer"));
        try (Child dst = Child.start(args, dir, "eager")) {
            dst.qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(Map.of("capability", "mapped-ram",
                    "state", true))));
            long start = System.nanoTime();
            dst.qmp.execute("migrate-incoming", Map.of("uri", "file:" + file));
            while (true) {
                String status = dst.qmp.execute("query-migrate").path("status").asText();
                if (status.equals("completed") || status.equals("failed")) {
                    assertEquals("completed", status);
                    break;
                }
                Thread.sleep(2);
            }
            System.out.printf("round %d: QEMU's own eager load %.0f ms%n", round, (System.nanoTime() - start) / 1e6);
        }
    }

    private static void round(Path file, Path dir, int round, boolean zeroPagesOnRequest) throws Exception {
        Path socket = dir.resolve("dst.sock");
        Files.deleteIfExists(socket);
        boolean tcp = "tcp".equals(System.getProperty("thaw.probe.channel"));
        int port = 0;
        if (tcp) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            }
        }
        String uri = tcp ? "tcp:127.0.0.1:" + port : "unix:" + socket;
        List<String> args = new ArrayList<>(MACHINE);
        args.addAll(List.of("-S", "-incoming", "defer"));
        try (Child dst = Child.start(args, dir, "dst"); SnapshotReader reader = new QemuMappedRamFormat().open(file)) {
            dst.qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(Map.of("capability", "postcopy-ram",
                    "state", true))));
            dst.qmp.execute("migrate-incoming", Map.of("uri", uri));
            MigrationFile mf = MigrationFile.of(reader);
            long start = System.nanoTime();
            List<Long> waits = new ArrayList<>();
            List<Long> placedWaits = new ArrayList<>();
            SocketChannel channel = tcp ? SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", port))
                    : SocketChannel.open(UnixDomainSocketAddress.of(socket));
            RestoreStats stats;
            try (PostcopySource source = PostcopySource.start(mf, channel, uri, new SequentialPolicy(ConfigProxy.defaults(
                    SequentialPolicy.Config.class)), Map.of(), ServeProfile.none(mf), zeroPagesOnRequest)) {
                while (source.stats().resumeLatency() < 0) {
                    Thread.sleep(1);
                }
                SplittableRandom random = new SplittableRandom(round);
                // pages well ahead of the address-order background: each one asked for, none sent yet
                for (long next = RAM - (64L << 20); source.stats().phase() == RestoreStats.Phase.LOADING && waits.size() < READS; ) {
                    long address = next + random.nextLong(1 << 20) / 4096 * 4096;
                    next -= 8L << 20;
                    long t = System.nanoTime();
                    dst.qmp.execute("human-monitor-command", Map.of("command-line", String.format("xp /1xb 0x%x", address)));
                    waits.add(System.nanoTime() - t);
                    t = System.nanoTime(); // the monitor's own cost under the same load: a page placed already
                    dst.qmp.execute("human-monitor-command", Map.of("command-line", String.format("xp /1xb 0x%x", address)));
                    placedWaits.add(System.nanoTime() - t);
                    Thread.sleep(15);
                }
                stats = source.completion().get(60, TimeUnit.SECONDS);
            }
            long[] w = waits.stream().mapToLong(Long::longValue).sorted().toArray();
            long[] placed = placedWaits.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("round %d (%s, zero pages %s): %d monitor reads of pages not sent yet, during the stream: p50 %.2f ms, p90 %.2f ms, "
                    + "max %.2f ms; the same read again (page placed): p50 %.2f ms, p90 %.2f ms; source: %d requests, latency "
                    + "p50 %.2f ms p99 %.2f ms; full load %.0f ms, resume %.1f ms, %d pages sent%n", round, tcp ? "tcp" : "unix",
                    zeroPagesOnRequest ? "on request" : "sent", w.length, pct(w, 50) / 1e6, pct(w, 90) / 1e6, w.length == 0 ? 0 : w[w.length - 1] / 1e6,
                    pct(placed, 50) / 1e6, pct(placed, 90) / 1e6, stats.faults(), stats.faultLatencyP50() / 1e6,
                    stats.faultLatencyP99() / 1e6, stats.fullLoadTime() / 1e6, stats.resumeLatency() / 1e6,
                    source(stats));
        }
    }

    private static long source(RestoreStats stats) {
        return stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground();
    }

    private static long pct(long[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** A microvm guest with 512 MiB of random data, saved by QEMU's own migration to a mapped-ram file. */
    private static void make(Path file, Path dir) throws Exception {
        Path random = dir.resolve("random.bin");
        try (OutputStream out = Files.newOutputStream(random)) {
            Random r = new Random(1);
            byte[] chunk = new byte[1 << 20];
            for (long n = 0; n < RANDOM_BYTES; n += chunk.length) {
                r.nextBytes(chunk);
                out.write(chunk);
            }
        }
        List<String> args = new ArrayList<>(MACHINE);
        args.addAll(List.of("-S", "-device", "loader,file=" + random + ",addr=0x" + Long.toHexString(RANDOM_AT)));
        try (Child src = Child.start(args, dir, "saver")) {
            src.qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(Map.of("capability", "mapped-ram",
                    "state", true))));
            src.qmp.execute("migrate", Map.of("uri", "file:" + file));
            while (true) {
                JsonNode r = src.qmp.execute("query-migrate");
                String status = r.path("status").asText();
                if (status.equals("completed") || status.equals("failed")) {
                    assertEquals("completed", status, r.toString());
                    break;
                }
                Thread.sleep(50);
            }
        } finally {
            Files.deleteIfExists(random);
        }
    }

    private record Child(Process process, QmpClient qmp) implements AutoCloseable {
        static Child start(List<String> args, Path dir, String name) throws IOException {
            Path monitor = dir.resolve(name + ".qmp");
            List<String> command = new ArrayList<>(args);
            command.addAll(List.of("-qmp", "unix:" + monitor + ",server=on,wait=off"));
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile()).start();
            return new Child(p, QmpClient.connect(monitor, Duration.ofSeconds(10)));
        }

        @Override
        public void close() {
            qmp.close();
            process.destroyForcibly();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.machine.impl.InstalledFormats;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.ProcessResources;
import dev.thaw.testing.RequiresQemu;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PostcopyServer component, as {@code thaw:restore --serve} calls it, serving a QEMU 10 destination started
 * the way docs/qemu-postcopy.md ("Serving your own QEMU") tells a user to: {@code -incoming unix:PATH} with
 * {@code postcopy-ram} on by {@code -global migration.x-postcopy-ram=on}. And what it refuses, before connecting.
 */
@RequiresQemu
class QemuPostcopyServerTest {

    @TempDir
    static Path shared;
    static Path saved;

    @TempDir
    Path dir;

    private final QemuPostcopyServer server = server();

    @BeforeAll
    static void saveAGuest() throws Exception {
        saved = PostcopyQemuTest.saveAGuest(shared);
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix", "tcp"})
    void aDestinationStartedWithTheDocumentedCommandLineCompletesWithTheFilesRam(String channel) throws Exception {
        String address = channel.equals("unix") ? "unix:" + dir.resolve("dst.sock") : "tcp:127.0.0.1:" + freePort();
        Path again = dir.resolve("again.mr");
        try (Qemu destination = Qemu.start(dir, "dst", "-S", "-global", "migration.x-postcopy-ram=on",
                "-incoming", address)) {
            // QEMU listens once it has parsed its command line, which is done when its monitor answers
            PostcopyServe serve = server.serve(new ServeRequest(saved, 0, address, "sequential", Map.of()));
            RestoreStats stats;
            try (serve) {
                assertEquals("serve1", serve.id());
                assertSame(serve, server.find("serve1").orElseThrow());
                stats = serve.completion().get(PostcopyQemuTest.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            destination.awaitMigration(Set.of("completed"), PostcopyQemuTest.MIGRATION_TIMEOUT);
            System.out.printf("served %d pages (%d present) to -incoming " + channel + ": -S: full load %.1f ms, device state at %.1f ms, "
                    + "%d requests, %d bytes sent%n", stats.pages(), stats.presentPages(), stats.fullLoadTime() / 1e6,
                    stats.resumeLatency() / 1e6, stats.faults(), serve.bytesSent());
            assertEquals(RestoreStats.Phase.COMPLETE, stats.phase());
            assertEquals("sequential", stats.policy());
            assertEquals(stats.pages(), stats.pagesFault() + stats.pagesPrefetch() + stats.pagesBackground(), stats.toString());
            assertEquals(stats.presentPages(), stats.loadedPages());
            assertEquals(stats, server.find("serve1").orElseThrow().stats(), "the figures stay after close");
            destination.saveMappedRam(again);
        }
        PostcopyQemuTest.assertSameRam(saved, again);
    }

    @Test
    void aDamagedFileIsRefusedWithOneLineBeforeConnecting() throws Exception {
        Path cut = dir.resolve("cut.mr");
        Files.copy(saved, cut);
        try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
            f.setLength(f.length() - 4096); // the device sections and the end are gone
        }
        Path socket = dir.resolve("dst.sock");
        ProcessResources.Held before = ProcessResources.now(dir);
        try (Qemu destination = Qemu.start(dir, "dst", "-S", "-global", "migration.x-postcopy-ram=on",
                "-incoming", "unix:" + socket)) {
            SnapshotException e = assertThrows(SnapshotException.class,
                    () -> server.serve(new ServeRequest(cut, 0, "unix:" + socket, "sequential", Map.of())));
            assertOneLine(e, cut + ": ");
            assertEquals("setup", destination.qmp().execute("query-migrate").path("status").asText(),
                    "nobody connected to the destination");
        }
        assertEquals(Set.of(), Set.copyOf(server.serves()), "a refused serve is not kept");
        PostcopyQemuTest.assertNothingLeft(dir, before);
    }

    @Test
    void anAddressNobodyListensOnIsNamedInOneLine() throws Exception {
        Path socket = dir.resolve("nobody.sock");
        ProcessResources.Held before = ProcessResources.now(dir);
        RestoreException unix = assertThrows(RestoreException.class,
                () -> server.serve(new ServeRequest(saved, 0, "unix:" + socket, "sequential", Map.of())));
        assertOneLine(unix, "cannot serve " + saved + " to unix:" + socket + ": ");
        int port = freePort();
        RestoreException tcp = assertThrows(RestoreException.class,
                () -> server.serve(new ServeRequest(saved, 0, "tcp:127.0.0.1:" + port, "sequential", Map.of())));
        assertOneLine(tcp, "cannot serve " + saved + " to tcp:127.0.0.1:" + port + ": ");
        assertTrue(tcp.getMessage().contains("refused"), tcp.getMessage());
        PostcopyQemuTest.assertNothingLeft(dir, before);
    }

    @Test
    void anAddressOfNeitherFormOrAPolicyNotInstalledIsRefused() {
        IllegalArgumentException address = assertThrows(IllegalArgumentException.class,
                () -> server.serve(new ServeRequest(saved, 0, "tcp:localhost", "sequential", Map.of())));
        assertOneLine(address, "'tcp:localhost' is not a destination address: unix:PATH or tcp:HOST:PORT");
        IllegalArgumentException policy = assertThrows(IllegalArgumentException.class,
                () -> server.serve(new ServeRequest(saved, 0, "unix:" + dir.resolve("x.sock"), "bogus", Map.of())));
        assertOneLine(policy, "no page policy named 'bogus' is installed (installed: sequential)");
    }

    /** A TCP port nobody listened on a moment ago. */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void assertOneLine(Exception e, String start) {
        String m = e.getMessage();
        assertTrue(m.startsWith(start), m);
        assertFalse(m.contains("\n"), m);
    }

    private static QemuPostcopyServer server() {
        QemuPostcopyServer s = new QemuPostcopyServer(InstalledFormats.of(new QemuMappedRamFormat(), new ThawSnapshotFormat()));
        s.addPolicy(new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)));
        return s;
    }
}

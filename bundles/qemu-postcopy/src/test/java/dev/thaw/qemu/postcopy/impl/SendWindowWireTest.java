package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.testing.Await;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.RequiresQemu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The background stream stays within {@link SendWindow#WINDOW} bytes of what the destination has read (its PONGs
 * say how far), however fast the destination's socket takes it: a destination that reads on but answers no PING
 * gets one window of background and then nothing but the pages it asks for, which go at once; its PONGs let the
 * rest go. (Socket buffers alone would let megabytes of background through ahead of a request.) The file is one
 * QEMU 10 saved with 4 MiB of random data, so that the stream is several windows long.
 */
@RequiresQemu
class SendWindowWireTest {

    /** A RAM part of 64 background pages at most: framing, and a block name and a page per record. */
    static final long MAX_PART = 18 + PageScheduler.BACKGROUND_PAGES * (8 + 1 + Protocol.MAX_STR8 + Protocol.PAGE_SIZE);

    /** Several windows of pages the file holds: sent as 4 KiB records, not 9-byte zero ones. */
    static final int RANDOM_BYTES = 4 << 20;

    @TempDir
    Path dir;

    @Test
    void aDestinationThatAnswersNoPingGetsOneWindowOfBackgroundThenOnlyWhatItAsksFor() throws Exception {
        Path file = savedWithRandomData();
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file);
                RecordingDestination destination = new RecordingDestination(dir, new RecordingDestination.Script() {})) {
            destination.holdPongs();
            MigrationFile mf = MigrationFile.of(reader);
            long preamble = Preamble.of(mf).remaining();
            try (PostcopySource source = PostcopySource.start(mf, destination.connect(), "test",
                    new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)), Map.of("faultChunkKiB", 4))) {
                Await.until("the sender waiting, everything it sent read", Duration.ofSeconds(PostcopyWireTest.TIMEOUT_SECONDS),
                        () -> senderWaits() && destination.records().size() == pagesSent(source.stats()));
                long background = source.bytesSent() - preamble;
                System.out.printf("unanswered PINGs: %d bytes of background sent (window %d), %d of %d pages%n",
                        background, SendWindow.WINDOW, pagesSent(source.stats()), mf.pages());
                assertTrue(background >= SendWindow.WINDOW && background < SendWindow.WINDOW + MAX_PART + 64,
                        background + " bytes after the package, window " + SendWindow.WINDOW);
                assertTrue(pagesSent(source.stats()) < mf.pages(), "the window held the rest back");

                int before = destination.records().size();
                destination.sendNow(RecordingDestination.request("pc.ram", 0x3f00)); // far beyond what was sent
                Await.until("the requested page", Duration.ofSeconds(PostcopyWireTest.TIMEOUT_SECONDS),
                        () -> destination.records().size() > before);
                PageRecord asked = destination.records().get(before);
                assertEquals(List.of("pc.ram", 0x3f00L), List.of(asked.block(), asked.page()), "the request goes past the window");

                destination.answerPings();
                RestoreStats stats = source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertEquals(mf.pages(), pagesSent(stats));
            }
            destination.done().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertEquals(mf.pages(), destination.records().size(), "every page once");
        }
    }

    /** The test machine, stopped, with {@link #RANDOM_BYTES} of random data at 16 MiB, saved by QEMU's own migration. */
    private Path savedWithRandomData() throws Exception {
        Path random = dir.resolve("random.bin");
        byte[] data = new byte[RANDOM_BYTES];
        new Random(7).nextBytes(data);
        Files.write(random, data);
        Path saved = dir.resolve("random.mr");
        try (Qemu q = Qemu.start(dir, "saver", "-S", "-device", "loader,file=" + random + ",addr=0x1000000")) {
            q.saveMappedRam(saved);
        }
        return saved;
    }

    private static long pagesSent(RestoreStats s) {
        return s.pagesFault() + s.pagesPrefetch() + s.pagesBackground();
    }

    /** The source's sending thread waits for work (a request, or a PONG opening the window). */
    private static boolean senderWaits() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("thaw-postcopy-sender")
                && t.getState() == Thread.State.WAITING);
    }
}

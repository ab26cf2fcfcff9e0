package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.machine.impl.InstalledFormats;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.BenchPostcopyServer;
import dev.thaw.restore.impl.NonePolicy;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.RequiresQemu;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The postcopy rows of {@code thaw:bench qemu-file}: the real PostcopyServer serving a sample QEMU 10 wrote (the pc
 * machine: firmware, VGA and 8 RAM blocks) to a real destination QEMU started like QEMU's own row.
 */
@RequiresQemu
class PostcopyRowsTest {

    @TempDir
    Path dir;

    private final SequentialPolicy sequential = new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
    private final SnapshotFormats formats = InstalledFormats.of(new QemuMappedRamFormat());
    private final PostcopyServer server = BenchPostcopyServer.of(formats, sequential);
    private final List<String> notes = new ArrayList<>();
    private SnapshotReader reader;
    private QemuFileLoad load;

    @AfterEach
    void noQemuIsLeft() {
        if (load != null) {
            load.delete();
        }
        if (reader != null) {
            reader.close();
        }
        assertEquals(List.of(), ProcessHandle.current().children().filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse("pid " + p.pid())).toList(), "no QEMU left running");
    }

    @Test
    void eachServeSendsEveryPageOnceAndCompletesAfterResuming() throws Exception {
        prepare("qemu-pc.mr");
        long pages = reader.regions().stream().mapToLong(r -> r.size() / r.pageSize()).sum();
        long present = reader.regions().stream().mapToLong(SnapshotRegion::presentPages).sum();
        for (int round = 0; round < 2; round++) {
            PostcopyLoad.Figures f = PostcopyLoad.serveOnce(server, load, "sequential");
            System.out.println("postcopy sequential, qemu-pc.mr: " + f);
            assertEquals(pages, f.pagesSent(), "every page of every RAM block sent once: " + f);
            assertTrue(f.resumeMs() > 0 && f.completeMs() >= f.resumeMs(), f.toString());
            assertTrue(f.pagesRequested() <= f.pagesSent() && f.requests() <= f.pagesRequested(), f.toString());
            assertTrue(f.bytesSent() > present * 4096, "the present pages' bytes at least: " + f);
        }
    }

    @Test
    void theRowsAreMediansWithRatiosAgainstQemusOwnLoad() throws Exception {
        prepare("qemu-pc.mr");
        PostcopyRows rows = PostcopyRows.prepare(server, load, List.of(sequential), notes);
        rows.round(false);
        rows.round(true);
        rows.round(true);
        assertEquals(List.of(), notes);
        List<FileLoadReport.Row> list = rows.rows();
        assertEquals(1, list.size());
        FileLoadReport.Row row = list.get(0);
        assertEquals("postcopy sequential", row.mode());
        assertTrue(row.fullLoadMs() > 0, row.toString());
        assertTrue(row.note().startsWith("resume "), row.note());
        Map<String, Object> figures = rows.figures().get("postcopy sequential");
        assertTrue((double) figures.get("fullLoadMs") >= (double) figures.get("resumeMs"), figures.toString());
        Map<String, Double> ratios = rows.ratios(100.0);
        assertEquals((double) figures.get("resumeMs") / 100, ratios.get("resume postcopy sequential/qemu"), 1e-9);
        assertEquals(row.fullLoadMs() / 100, ratios.get("fullLoad postcopy sequential/qemu"), 1e-9);
    }

    @Test
    void noneIsSkippedWithItsReasonForADestinationStoppedWithDashSRequestsNothing() throws Exception {
        prepare("qemu-microvm.mr");
        NonePolicy none = new NonePolicy();
        PostcopyRows rows = PostcopyRows.prepare(BenchPostcopyServer.of(formats, none, sequential), load, List.of(none, sequential), notes);
        rows.round(true);
        assertEquals(List.of("postcopy sequential"), rows.rows().stream().map(FileLoadReport.Row::mode).toList());
        assertEquals(List.of("postcopy none row skipped: none sends requested pages only, and the destination, stopped with -S, "
                + "requests none: it would never complete"), notes);
    }

    @Test
    void withoutThePostcopyServerTheRowsSaySkippedAndWhy() throws Exception {
        prepare("qemu-microvm.mr");
        PostcopyRows rows = PostcopyRows.prepare(null, load, List.of(sequential), notes);
        rows.round(true);
        assertEquals(List.of(), rows.rows());
        assertEquals(List.of("postcopy rows skipped: no PostcopyServer service (the qemu-postcopy bundle is not installed or not active)"),
                notes);
    }

    private void prepare(String sample) {
        Path file = new PackedSamples().write(sample, dir);
        reader = formats.open(file, 0);
        load = QemuFileLoad.prepare(reader, file, 0, notes);
        assertNotNull(load, notes.toString());
    }
}

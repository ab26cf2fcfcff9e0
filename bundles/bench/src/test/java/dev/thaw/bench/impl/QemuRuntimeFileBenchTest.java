package dev.thaw.bench.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.bench.FileLoadReport;
import dev.thaw.api.bench.FileLoadRequest;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.vm.Vm;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.machine.impl.InstalledFormats;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.impl.QemuPlatform;
import dev.thaw.qemu.postcopy.impl.BenchPostcopyServer;
import dev.thaw.restore.impl.RestoreEngine;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.KnownAnswers;
import dev.thaw.testing.RequiresQemu;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code thaw:bench qemu-file} on a file Thaw's own qemu runtime wrote ({@code thaw:boot --runtime qemu},
 * {@code thaw:snapshot}): its serial port and second vCPU are sections a QEMU started without them refuses, so
 * QEMU's row and the postcopy rows must start their QEMU with them.
 */
@RequiresQemu
@Timeout(300)
class QemuRuntimeFileBenchTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final SnapshotFormats formats = InstalledFormats.of(new QemuMappedRamFormat());

    @AfterEach
    void noQemuIsLeft() {
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "no QEMU left running");
    }

    @Test
    void qemusRowAndThePostcopyRowLoadAFileOfTheQemuRuntimeWithItsSerialPortAndTwoVcpus() {
        Path file = dir.resolve("function.mr");
        try (QemuPlatform platform = new QemuPlatform()) {
            Vm vm = platform.vms().boot(KnownAnswers.function("saved", 2), "qemu");
            assertEquals(KnownAnswers.FUNCTION.get(1), vm.invoke(WAIT).resultLine());
            vm.snapshot(file, false, Progress.NONE);
            vm.stop();
        }
        try (SnapshotReader reader = formats.open(file, 0)) {
            List<SnapshotDevice> devices = reader.origin().devices();
            assertTrue(devices.stream().anyMatch(d -> d.name().equals("serial")), "the file holds a serial port: " + devices);
            assertTrue(devices.stream().anyMatch(d -> d.name().equals("cpu") && d.instance() == 1), "and a second vCPU: " + devices);
        }

        SequentialPolicy sequential = new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
        InstalledPolicies policies = new InstalledPolicies();
        policies.addPolicy(sequential);
        FileLoadBench bench = new FileLoadBench(formats, new RestoreEngine(), policies);
        bench.setPostcopyServer(BenchPostcopyServer.of(formats, sequential));
        List<String> progress = new ArrayList<>();
        FileLoadReport report = bench.run(new FileLoadRequest(file, 0, 1, 2, dir.resolve("results")), progress::add);
        report.rows().forEach(System.out::println);
        report.notes().forEach(System.out::println);

        assertEquals(List.of(), report.notes().stream().filter(n -> n.contains("failed") || n.contains("skipped")).toList(),
                "no row failed or was skipped");
        for (String mode : List.of(RestoreBench.QEMU, PostcopyLoad.PREFIX + "sequential")) {
            FileLoadReport.Row row = report.rows().stream().filter(r -> r.mode().equals(mode)).findFirst().orElse(null);
            assertNotNull(row, mode + " row in " + report.rows());
            assertTrue(row.fullLoadMs() != null && row.fullLoadMs() > 0, row.toString());
        }
    }

    @Test
    void aFileQemuWroteWithoutThawGetsNoDeviceOption() {
        Path file = new PackedSamples().write("qemu-microvm.mr", dir);
        try (SnapshotReader reader = formats.open(file, 0)) {
            assertEquals(List.of(), QemuFileLoad.deviceOptions(reader.origin().devices()), reader.origin().devices().toString());
        }
    }

    @Test
    void aSerialSectionGetsAnUnconnectedPortAndTheCpuSectionsTheirCount() {
        List<SnapshotDevice> devices = List.of(new SnapshotDevice("timer", 0, 2), new SnapshotDevice("cpu_common", 0, 1),
                new SnapshotDevice("cpu", 0, 12), new SnapshotDevice("cpu_common", 1, 1), new SnapshotDevice("cpu", 1, 12),
                new SnapshotDevice("serial", 0, 3));
        assertEquals(List.of("-serial", "null", "-smp", "2"), QemuFileLoad.deviceOptions(devices));
    }
}

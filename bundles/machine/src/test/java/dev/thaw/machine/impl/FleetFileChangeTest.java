package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.machine.impl.FleetTest.Saved;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The snapshot file changed under a shared fleet of two VMs whose memory loads on demand only (policy
 * {@code none}): the next invocation needs pages not yet in the fleet's cache (docs/shared-fleets.md, "The
 * snapshot file under a fleet").
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(300)
class FleetFileChangeTest {

    @TempDir
    Path dir;
    @Parameter
    String runtime;
    TestPlatform platform;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
    }

    @AfterEach
    void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    private List<Vm> fleetOnDemand(Saved saved) {
        return platform.manager().restoreFleet(RestoreOptions.lazy(saved.file(), "f", "none"), 2, true, Progress.NONE);
    }

    private FleetInfo fleet() {
        return platform.manager().fleets().getFirst();
    }

    /** Each VM fails at its next invocation, with {@code line} in its reason: it never answers from other bytes. */
    private void assertEachFails(List<Vm> fleet, String line) {
        for (Vm vm : fleet) {
            assertThrows(VmException.class, () -> vm.invoke(FleetTest.WAIT), vm.id() + " answers no invocation");
            assertEquals(VmStatus.FAILED, vm.info().status());
            assertTrue(vm.info().reason().endsWith(line), vm.id() + ": " + vm.info().reason());
        }
        assertEquals(Optional.of(line), fleet().problem());
    }

    @Test
    void aSnapshotTruncatedUnderASharedFleetFailsItsVmsWithOneLine() throws IOException {
        Saved saved = FleetTest.saveAfterOneInvocation(platform, dir, FleetTest.MEMORY, FleetTest.RESIDENT,
                BootRequest.WRITE_ALL);
        List<Vm> fleet = fleetOnDemand(saved);
        assertEquals(Optional.empty(), fleet().problem());
        long size = Files.size(saved.file());
        try (RandomAccessFile f = new RandomAccessFile(saved.file().toFile(), "rw")) {
            f.setLength(size - 4096);
        }
        assertEachFails(fleet, saved.file() + " was truncated from " + size + " to " + (size - 4096)
                + " bytes under its shared fleet; pages not yet in the fleet's cache fail");
    }

    @Test
    void aSnapshotRewrittenInPlaceUnderASharedFleetFailsItsVmsWithOneLine() throws IOException {
        Saved saved = FleetTest.saveAfterOneInvocation(platform, dir, FleetTest.MEMORY, FleetTest.RESIDENT,
                BootRequest.WRITE_ALL);
        List<Vm> fleet = fleetOnDemand(saved);
        long size = Files.size(saved.file());
        try (RandomAccessFile f = new RandomAccessFile(saved.file().toFile(), "rw")) {
            f.seek(RestoreTest.firstPageAreaOffset(saved.file()) + 0x100000); // the guest's code page: other bytes
            f.write(new byte[4096]);
        }
        assertEquals(size, Files.size(saved.file()));
        assertEachFails(fleet, saved.file() + " was modified (its mtime changed, its size did not) under its shared"
                + " fleet; pages not yet in the fleet's cache fail");
    }

    @Test
    void aSnapshotReplacedAtItsPathIsReportedAndTheFleetContinuesExactly() throws IOException {
        Saved saved = FleetTest.saveAfterOneInvocation(platform, dir, FleetTest.MEMORY, FleetTest.RESIDENT,
                BootRequest.WRITE_ALL);
        List<Vm> fleet = fleetOnDemand(saved);
        Path other = dir.resolve("other.snap");
        Files.copy(saved.file(), other);
        try (RandomAccessFile f = new RandomAccessFile(other.toFile(), "rw")) {
            f.seek(RestoreTest.firstPageAreaOffset(other));
            f.write(new byte[(int) FleetTest.WORKING_SET]); // would fail checksums, and answer otherwise, if read
        }
        Files.move(other, saved.file(), StandardCopyOption.REPLACE_EXISTING);
        for (Vm vm : fleet) {
            assertEquals(saved.answers(), FleetTest.answers(vm), vm.id() + " continues from the snapshot it opened");
        }
        assertEquals(Optional.of(saved.file() + " was replaced at its path; the fleet reads the snapshot it opened"),
                fleet().problem());
    }
}

package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.GuestMemoryRegion;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import dev.thaw.linux.TransparentHugePages;
import dev.thaw.linux.Userfaultfd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Guest memory is advised {@code MADV_HUGEPAGE} by the runtime where no userfaultfd will serve it (a boot, an
 * eager restore), and by the restore engine where it moves whole huge pages in (a lazy restore on a kernel with
 * UFFDIO_MOVE and transparent huge pages for madvise). Read from
 * the kernel's own record of each mapping: the {@code VmFlags} line of {@code /proc/self/smaps}, where
 * {@code hg} is the advice and {@code um} a userfaultfd registration for missing pages.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(120)
class HugePageAdviceTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    @Parameter
    String runtime;
    TestPlatform platform;
    Path snapshot;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
        Vm vm = platform.manager().boot(new BootRequest("src", 64L << 20, 1, Workload.FUNCTION, 5, 8L << 20,
                TouchOrder.SEQUENTIAL, 4096));
        vm.invoke(WAIT);
        snapshot = dir.resolve("src.snap");
        vm.snapshot(snapshot, true, Progress.NONE);
        assertTrue(flags(vm).contains("hg"), "a booted VM's memory is advised huge pages: " + flags(vm));
    }

    @AfterEach
    void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void anEagerRestoreGetsHugePagesAndContinues() {
        Vm vm = platform.manager().restore(RestoreOptions.eager(snapshot, "eager"), Progress.NONE);
        Set<String> flags = flags(vm);
        assertTrue(flags.contains("hg"), "eager: " + flags);
        assertFalse(flags.contains("um"), "eager: " + flags);
        assertEquals(platform.manager().find("src").orElseThrow().invoke(WAIT).resultLine(), vm.invoke(WAIT).resultLine());
    }

    @Test
    void aLazyRestoreIsAdvisedHugePagesByItsEngineAndContinues() {
        // "none" loads only what the guest touches, so the memory stays registered while it is looked at.
        Vm vm = platform.manager().restore(RestoreOptions.lazy(snapshot, "lazy", "none"), Progress.NONE);
        Set<String> flags = flags(vm);
        assertTrue(flags.contains("um"), "lazy: registered with userfaultfd: " + flags);
        boolean moves = TransparentHugePages.anonymousSize() > 0 && Userfaultfd.offers(Userfaultfd.UFFD_FEATURE_MOVE);
        assertEquals(moves, flags.contains("hg"), "lazy: advised huge pages where the engine moves them in: " + flags);
        assertEquals(platform.manager().find("src").orElseThrow().invoke(WAIT).resultLine(), vm.invoke(WAIT).resultLine());
    }

    /** The VmFlags of the mapping behind the VM's first memory region. */
    private static Set<String> flags(Vm vm) {
        List<GuestMemoryRegion> memory = ((GuestVm) vm).memoryRegions();
        assertFalse(memory.isEmpty(), "the VM has memory");
        long address = memory.get(0).hostAddress();
        try {
            boolean inside = false;
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                if (line.matches("[0-9a-f]+-[0-9a-f]+ .*")) {
                    String[] range = line.substring(0, line.indexOf(' ')).split("-");
                    inside = Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16);
                } else if (inside && line.startsWith("VmFlags:")) {
                    return Set.of(line.substring("VmFlags:".length()).trim().split("\\s+"));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/smaps: " + e.getMessage(), e);
        }
        throw new AssertionError("no mapping in /proc/self/smaps holds 0x" + Long.toHexString(address));
    }
}

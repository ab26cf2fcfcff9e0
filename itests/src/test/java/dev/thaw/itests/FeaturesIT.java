package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import dev.thaw.api.vm.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

/**
 * Features stand on their own: a framework provisioned with every feature but the shell (from the same
 * feature folders the launcher installs) has every Thaw component satisfied, no {@code thaw:} command, and
 * boots, snapshots and lazily restores a guest through the {@link VmManager} service, the copy continuing
 * bit-exact.
 */
@RunWith(PaxExamOnRuntime.class)
@ExamReactorStrategy(PerClass.class)
public class FeaturesIT {

    static final List<String> WITHOUT_SHELL = List.of("platform", "core", "devices", "formats", "policies");
    static final Duration SCR_SETTLE = Duration.ofSeconds(5);
    static final Duration GUEST_TIMEOUT = Duration.ofSeconds(60);

    @Inject
    BundleContext context;

    @Inject
    ServiceComponentRuntime scr;

    @Inject
    VmManager vms;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options(WITHOUT_SHELL);
    }

    @Test
    public void everyFeatureButTheShellRunsAGuestAndRestoresItWithoutAnyCommand() throws Exception {
        assertTrue("the distribution has a shell feature to leave out: " + ThawDistribution.features(),
                ThawDistribution.features().contains("shell"));
        List<String> problems = Await.until(SCR_SETTLE, () -> Components.problems(context, scr), List::isEmpty);
        assertTrue("unsatisfied components without the shell:\n  " + String.join("\n  ", problems), problems.isEmpty());
        assertNull("no thaw: commands without the shell feature",
                context.getServiceReferences((String) null, "(osgi.command.scope=thaw)"));

        Path snapshot = Files.createTempDirectory("thaw-features").resolve("guest.snap");
        Vm original = vms.boot(new BootRequest("feat", 64L << 20, 1, Workload.FUNCTION, 7, 4L << 20,
                TouchOrder.SEQUENTIAL, BootRequest.DEFAULT_STRIDE));
        Vm copy = null;
        try {
            original.invoke(GUEST_TIMEOUT);
            original.snapshot(snapshot, true, Progress.NONE);
            copy = vms.restore(RestoreOptions.lazy(snapshot, "feat-copy", "sequential"), Progress.NONE);
            assertEquals("the copy continues bit-exact", original.invoke(GUEST_TIMEOUT).resultLine(),
                    copy.invoke(GUEST_TIMEOUT).resultLine());
            assertFalse("restored lazily", copy.restoreStats().isEmpty());
        } finally {
            original.stop();
            if (copy != null) {
                copy.stop();
            }
            Files.deleteIfExists(snapshot);
            Files.deleteIfExists(snapshot.getParent());
        }
    }
}

package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The distribution boots the test guest's function workload from the Gogo shell, as a user would type it:
 * {@code thaw:boot} prints the guest's first result, each {@code thaw:invoke} a new one, {@code thaw:vms}
 * lists the VM, {@code thaw:stop} stops it, and bad input is refused with a message that names it.
 * Runs on each runtime (see {@link PaxExamOnRuntime}).
 */
@RunWith(PaxExamOnRuntime.class)
@ExamReactorStrategy(PerClass.class)
public class GuestBootsThroughGogoIT {

    static final String VM = "itest";
    /** The guest's result line (guest/README.md): {@code result function <16 lowercase hex digits>}. */
    static final Pattern RESULT = Pattern.compile("^result function ([0-9a-f]{16})[ \\t\\r]*$", Pattern.MULTILINE);
    static final String BOOT_COMMAND = "(&(osgi.command.scope=thaw)(osgi.command.function=boot))";
    static final String VM_MANAGER = "dev.thaw.api.vm.VmManager";
    /** Bounds each wait for the guest's answer (thaw:boot --wait would wait 600 s by default). */
    static final int GUEST_TIMEOUT_S = 60;
    /** Bundles start before the tests do; this bounds only how long SCR may lag behind. */
    static final Duration COMMANDS_TIMEOUT = Duration.ofSeconds(5);

    /** Why the commands are missing, once a test has waited for them in vain: the next tests do not wait again. */
    private static String commandsMissing;

    @Inject
    BundleContext context;

    @Inject
    CommandProcessor processor;

    @Inject
    ServiceComponentRuntime scr;

    private GogoSession gogo;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options();
    }

    @Before
    public void thawCommandsAreRegistered() throws Exception {
        awaitBootCommand();
        gogo = new GogoSession(processor);
    }

    @After
    public void stopTheVmIfStillRunning() {
        if (gogo == null) {
            return;
        }
        try {
            if (vmState(gogo.execute("thaw:vms --json")) != null) {
                gogo.execute("thaw:stop " + VM);
            }
        } catch (Exception e) {
            // The test has failed already or stops the VM itself; the framework's stop frees the rest.
        } finally {
            gogo.close();
        }
    }

    @Test
    public void functionGuestBootsAnswersInvocationsIsListedAndStops() throws Exception {
        String boot = gogo.execute("thaw:boot --name " + VM + " --workload function --memory 64M --wait --timeout " + GUEST_TIMEOUT_S);
        assertTrue("thaw:boot says the VM booted, and on which runtime:\n" + boot,
                boot.startsWith(VM + " booted on " + ItestRuntime.name() + ":"));
        String initial = result("thaw:boot --wait", boot);

        String first = result("first thaw:invoke", gogo.execute("thaw:invoke --timeout " + GUEST_TIMEOUT_S + " " + VM));
        String second = result("second thaw:invoke", gogo.execute("thaw:invoke --timeout " + GUEST_TIMEOUT_S + " " + VM));
        assertNotEquals("the first invocation's result differs from the boot result", initial, first);
        assertNotEquals("the second invocation's result differs from the boot result", initial, second);
        assertNotEquals("the two invocations' results differ", first, second);

        String vms = gogo.execute("thaw:vms --json");
        assertEquals("state of " + VM + " in thaw:vms --json:\n" + vms, "running", vmState(vms));

        String stop = gogo.execute("thaw:stop " + VM);
        assertTrue("thaw:stop says so:\n" + stop, stop.contains(VM + " stopped"));
        String after = vmState(gogo.execute("thaw:vms --json"));
        assertTrue(VM + " after thaw:stop is gone or stopped, not " + after, after == null || after.equals("stopped"));
    }

    @Test
    public void everyThawCommandDescribesItselfAndEachOptionInHelpAndCanPrintJson() throws Exception {
        Set<String> functions = new TreeSet<>();
        for (ServiceReference<?> ref : context.getServiceReferences((String) null, "(osgi.command.scope=thaw)")) {
            Object f = ref.getProperty("osgi.command.function");
            if (f instanceof String[] names) {
                functions.addAll(List.of(names));
            } else if (f != null) {
                functions.add(f.toString());
            }
        }
        assertTrue(functions.toString(), functions.containsAll(List.of("boot", "restore", "stats", "policies", "bench", "stop")));
        for (String f : functions) {
            String help = gogo.execute("help thaw:" + f);
            assertTrue("help thaw:" + f + " describes the command:\n" + help, help.startsWith(f + " - "));
            assertTrue("thaw:" + f + " has --json:\n" + help, help.contains("--json"));
            for (String line : help.split("\n")) {
                String option = line.replace("[optional]", "").strip();
                if (option.startsWith("-")) {
                    // "--name   description": the option's names, then its description after a wide gap
                    assertTrue("help thaw:" + f + " describes " + option + ":\n" + help, option.split("\\s{2,}").length >= 2);
                }
            }
        }
    }

    @Test
    public void aSnapshotRestoredThroughGogoContinuesLikeTheOriginal() throws Exception {
        Path file = Files.createTempDirectory("thaw-itest").resolve("itest.snap");
        gogo.execute("thaw:boot --name " + VM + " --workload function --memory 64M --wait --timeout " + GUEST_TIMEOUT_S);
        gogo.execute("thaw:invoke --timeout " + GUEST_TIMEOUT_S + " " + VM);
        String snapshot = gogo.execute("thaw:snapshot --resume " + VM + " " + file);
        assertTrue("thaw:snapshot says where it wrote:\n" + snapshot, snapshot.contains("snapshot written to " + file));

        String inspect = gogo.execute("thaw:inspect --json " + file);
        assertTrue("thaw:inspect finds the thaw format through the registered format service:\n" + inspect,
                inspect.contains("\"format\":\"thaw\"") && inspect.contains("\"vcpus\":1") && inspect.contains("\"name\":\"ram0\""));
        assertTrue("thaw:inspect shows each device's state version:\n" + inspect,
                inspect.contains("{\"name\":\"uart16550\",\"instance\":0,\"version\":1}"));

        // Nobody listens there: a Thaw file must be refused before anything connects, naming the file.
        String nowhere = "unix:" + file.resolveSibling("nobody.sock");
        Exception served = assertThrows("thaw:restore --serve of a Thaw file", Exception.class,
                () -> gogo.execute("thaw:restore --serve " + nowhere + " " + file));
        assertTrue("--serve refuses a Thaw snapshot before connecting, got: " + messages(served),
                messages(served).contains(file.toString()) && messages(served).contains("not a QEMU mapped-ram file"));

        String restore = gogo.execute("thaw:restore --eager --name copy " + file);
        assertTrue("thaw:restore says the copy runs, and on which runtime:\n" + restore,
                restore.startsWith("copy restored on " + ItestRuntime.name() + " from"));
        try {
            String original = result("invoke on the original", gogo.execute("thaw:invoke --timeout " + GUEST_TIMEOUT_S + " " + VM));
            String copy = result("invoke on the copy", gogo.execute("thaw:invoke --timeout " + GUEST_TIMEOUT_S + " copy"));
            assertEquals("the restored copy continues exactly like the original", original, copy);
        } finally {
            gogo.execute("thaw:stop copy");
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.getParent());
        }
    }

    @Test
    public void theRestoreBenchmarkMeasuresEveryModeAndWritesItsResults() throws Exception {
        Path results = Files.createTempDirectory("thaw-bench");
        String json = gogo.execute("thaw:bench --memory 64M --working-set 4M --repeat 1 --results " + results + " --json restore");
        for (String mode : List.of("eager", "none", "sequential", "hot-page-first", "prefetch-window")) {
            Matcher m = Pattern.compile("\\{\"mode\":\"" + mode + "\",\"resumeLatencyMs\":([0-9.]+),\"firstInvocationMs\":([0-9.]+)")
                    .matcher(json);
            assertTrue(mode + " restored and invoked:\n" + json, m.find());
            assertTrue(mode + " resume latency is positive", Double.parseDouble(m.group(1)) > 0);
        }
        assertTrue("the warm row:\n" + json, json.contains("{\"mode\":\"warm\",\"resumeLatencyMs\":null,\"firstInvocationMs\":"));
        Matcher qemu = Pattern.compile("\\{\"mode\":\"qemu\".*?\"fullLoadMs\":([0-9.]+|null).*?\"note\":\"([^\"]*)\"").matcher(json);
        assertTrue("the qemu row:\n" + json, qemu.find());
        assertTrue("qemu is measured or the row says why not: " + qemu.group(2),
                !qemu.group(1).equals("null") || qemu.group(2).startsWith("qemu row skipped: ") || qemu.group(2).startsWith("qemu row failed: "));
        Matcher dir = Pattern.compile("\"resultsDir\":\"([^\"]+)\"").matcher(json);
        assertTrue(json, dir.find());
        assertTrue("results.json in " + dir.group(1), Files.size(Path.of(dir.group(1), "results.json")) > 0);
        assertTrue("chart.svg in " + dir.group(1), Files.readString(Path.of(dir.group(1), "chart.svg")).startsWith("<svg"));
        try (var files = Files.list(Path.of(dir.group(1)))) {
            assertEquals("nothing else is left in the results folder", List.of("chart.svg", "results.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    public void theCpuBenchmarkMeasuresEveryRowProfilesAndWritesItsResults() throws Exception {
        Path results = Files.createTempDirectory("thaw-bench-cpu");
        String json = gogo.execute("thaw:bench --memory 8M --repeat 1 --results " + results + " --json cpu");
        String number = "([0-9.Ee+-]+)";
        long loopInstructions = -1;
        for (String mode : List.of("emulated fill", "emulated function", "emulated fill-loop", "unicorn fill-loop")) {
            String[] rw = mode.split(" ");
            Matcher m = Pattern.compile("\\{\"runner\":\"" + rw[0] + "\",\"workload\":\"" + rw[1] + "\",\"instructions\":"
                    + number + ",\"ms\":" + number + ",\"mips\":" + number).matcher(json);
            assertTrue(mode + " measured:\n" + json, m.find());
            assertTrue(mode + " ran instructions", Long.parseLong(m.group(1)) > 0);
            assertTrue(mode + " took time", Double.parseDouble(m.group(2)) > 0);
            assertTrue(mode + " has a rate", Double.parseDouble(m.group(3)) > 0);
            if (mode.endsWith("fill-loop")) {
                assertTrue("both fill loops ran the same instructions (the interpreter's count): " + json,
                        loopInstructions < 0 || loopInstructions == Long.parseLong(m.group(1)));
                loopInstructions = Long.parseLong(m.group(1));
            }
        }
        assertEquals("the fill loop over [4, 8) MiB: 18 instructions per word", (4L << 20) / 8 * 18, loopInstructions);
        Matcher kvm = Pattern.compile("\\{\"runner\":\"kvm\",\"workload\":\"fill\",\"instructions\":([0-9]+|null).*?\"note\":\"([^\"]*)\"")
                .matcher(json);
        assertTrue("the kvm row:\n" + json, kvm.find());
        boolean kvmMeasured = !kvm.group(1).equals("null");
        assertTrue("kvm is measured where it runs, elsewhere the row says why not: " + kvm.group(2),
                kvmMeasured || (!ItestRuntime.name().equals(ItestRuntime.KVM) && kvm.group(2).startsWith("kvm row skipped: ")));
        assertTrue("the target's ratio:\n" + json, Pattern.compile("\"fill-loop emulated/unicorn\":" + number).matcher(json).find());
        Matcher samples = Pattern.compile("\"profile\":\\{\"samples\":([0-9]+),\"top\":\\[\\{\"method\":\"([^\"]+)\"").matcher(json);
        assertTrue("a profile with its top method:\n" + json, samples.find() && Long.parseLong(samples.group(1)) > 0);
        Matcher dir = Pattern.compile("\"resultsDir\":\"([^\"]+)\"").matcher(json);
        assertTrue(json, dir.find());
        assertTrue("results.json in " + dir.group(1), Files.readString(Path.of(dir.group(1), "results.json")).contains("\"fill-loop\""));
        try (var files = Files.list(Path.of(dir.group(1)))) {
            assertEquals("the results and the profile's recording, nothing else", List.of("profile.jfr", "results.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    public void bootRefusesAnUnknownWorkloadNamingIt() {
        Exception e = assertThrows("thaw:boot --workload nope", Exception.class,
                () -> gogo.execute("thaw:boot --workload nope"));
        assertTrue("the error names the problem (unknown workload), got: " + messages(e), messages(e).contains("unknown workload"));
    }

    /** The 16 hex digits of the one result line in {@code output}. */
    private static String result(String what, String output) {
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            fail(what + " printed no line matching '" + RESULT.pattern() + "':\n" + output);
        }
        return m.group(1);
    }

    /** The state thaw:vms --json gives for the test's VM, or null if it is not listed. */
    private static String vmState(String vmsJson) {
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*\"" + VM + "\"\\s*,\\s*\"state\"\\s*:\\s*\"(\\w+)\"").matcher(vmsJson);
        return m.find() ? m.group(1) : null;
    }

    private static String messages(Throwable e) {
        List<String> all = new ArrayList<>();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.add(t.getClass().getName() + ": " + t.getMessage());
        }
        return String.join(" / caused by ", all);
    }

    private void awaitBootCommand() throws InterruptedException, InvalidSyntaxException {
        if (commandsMissing != null) {
            fail(commandsMissing);
        }
        Filter filter = context.createFilter(BOOT_COMMAND);
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, filter, null);
        tracker.open(true);
        try {
            if (tracker.waitForService(COMMANDS_TIMEOUT.toMillis()) == null) {
                List<String> problems = Components.problems(context, scr);
                commandsMissing = "no thaw:boot command within " + COMMANDS_TIMEOUT.toSeconds() + " s (service "
                        + BOOT_COMMAND + ").\n  " + VM_MANAGER + " services: " + serviceCount(VM_MANAGER)
                        + "\n  Thaw bundles: " + thawBundles()
                        + "\n  Thaw components SCR has not satisfied: "
                        + (problems.isEmpty() ? "none" : "\n    " + String.join("\n    ", problems));
                fail(commandsMissing);
            }
        } finally {
            tracker.close();
        }
    }

    private int serviceCount(String type) throws InvalidSyntaxException {
        ServiceReference<?>[] refs = context.getAllServiceReferences(type, null);
        return refs == null ? 0 : refs.length;
    }

    private List<String> thawBundles() {
        List<String> names = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (Components.isThaw(b)) {
                names.add(b.getSymbolicName());
            }
        }
        return names;
    }
}

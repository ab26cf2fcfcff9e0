package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The restore settings come from {@code config/dev.thaw.restore.cfg} through FileInstall and
 * ConfigAdmin: editing the file while Thaw runs changes what the next restore does; a file with a bad
 * value is refused, the reason shown by {@code thaw:policies}, and the settings before it stay. A relative
 * profile folder is taken in the Thaw home, not in the process's working folder.
 */
@RunWith(PaxExamOnRuntime.class)
@ExamReactorStrategy(PerClass.class)
public class RestoreSettingsIT {

    static final Duration FILE_INSTALL = Duration.ofSeconds(15);
    static final int GUEST_TIMEOUT_S = 60;

    @Inject
    BundleContext context;

    @Inject
    CommandProcessor processor;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options();
    }

    @Test
    public void editingTheConfigFileSwitchesTheNextRestoreAndABadValueIsRefusedKeepingThePrevious() throws Exception {
        Components.awaitThawCommand(context, "restore");
        Path file = Path.of(context.getProperty("felix.fileinstall.dir"), "dev.thaw.restore.cfg");
        String original = Files.readString(file);
        Path snapshot = Files.createTempDirectory("thaw-settings").resolve("guest.snap");
        Path profiles = snapshot.resolveSibling("profiles"); // made by the recording restore
        // Configured relative to the Thaw home, which is not this JVM's working folder (itests/).
        Path home = Path.of(context.getProperty("thaw.home"));
        assertFalse("the home must differ from the working folder for this to prove anything",
                home.equals(Path.of("").toAbsolutePath()));
        Path profilesFromHome = home.relativize(profiles);
        try (GogoSession gogo = new GogoSession(processor)) {
            gogo.execute("thaw:boot --name cfg --workload function --memory 64M --working-set 4M --wait --timeout " + GUEST_TIMEOUT_S);
            gogo.execute("thaw:snapshot --resume cfg " + snapshot);
            try {
                edit(file, "defaultPolicy = prefetch-window\nfallbackPolicy = none\nloaderThreads = 1\n");
                gogo.executeUntil("thaw:policies --json", out -> out.contains("\"defaultPolicy\":\"prefetch-window\""),
                        FILE_INSTALL);
                assertEquals("prefetch-window", policyOf(gogo.execute("thaw:restore --json --name c1 " + snapshot)));
                String next = result(gogo.execute("thaw:invoke cfg")); // what every copy computes first
                assertEquals("the restore continues bit-exact", next, result(gogo.execute("thaw:invoke c1")));
                assertEquals("an uninstalled policy falls back as configured", "none",
                        policyOf(gogo.execute("thaw:restore --json --policy no-such-policy --name c2 " + snapshot)));

                edit(file, "defaultPolicy = prefetch-window\nfallbackPolicy = none\nloaderThreads = 1\n"
                        + "profileDirectory = " + profilesFromHome + "\n");
                gogo.executeUntil("thaw:policies --json", out -> out.contains("\"profileDirectory\":\"" + profiles + "\""),
                        FILE_INSTALL);
                String recording = gogo.execute("thaw:restore --json --record-profile --name c-rec " + snapshot);
                assertTrue(recording, recording.contains("\"profile\":\"" + profiles + "/guest.snap."));
                assertEquals("a recording restore continues bit-exact", next,
                        result(gogo.execute("thaw:invoke c-rec"))); // its first invocation ends the recording
                try (var inFolder = Files.list(profiles)) {
                    assertEquals("the profile is written into the configured folder", 1,
                            inFolder.filter(p -> p.getFileName().toString().endsWith(".profile.json")).count());
                }
                assertFalse("and not beside the snapshot", Files.exists(Path.of(snapshot + ".profile.json")));

                edit(file, "defaultPolicy = sequential\nfallbackPolicy = none\nloaderThreads = 0\n");
                String refused = gogo.executeUntil("thaw:policies --json", out -> out.contains("loaderThreads 0 is out of range"),
                        FILE_INSTALL);
                assertTrue(refused, refused.contains("\"defaultPolicy\":\"prefetch-window\""));
                assertEquals("the settings before the bad file stay", "prefetch-window",
                        policyOf(gogo.execute("thaw:restore --json --name c3 " + snapshot)));

                edit(file, "defaultPolicy = sequential\nfallbackPolicy =\nloaderThreads = 2\n");
                gogo.executeUntil("thaw:policies --json", out -> out.contains("\"defaultPolicy\":\"sequential\""), FILE_INSTALL);
                Exception e = assertThrows(Exception.class,
                        () -> gogo.execute("thaw:restore --policy no-such-policy --name c4 " + snapshot));
                assertTrue(e.getMessage(), e.getMessage().contains("no page policy named 'no-such-policy' is installed"));
            } finally {
                edit(file, original);
                gogo.stopQuietly(List.of("cfg", "c1", "c2", "c-rec", "c3"));
            }
        } finally {
            if (Files.isDirectory(profiles)) {
                try (var inFolder = Files.list(profiles)) {
                    for (Path p : inFolder.toList()) {
                        Files.delete(p);
                    }
                }
                Files.delete(profiles);
            }
            Files.deleteIfExists(snapshot);
            Files.deleteIfExists(snapshot.getParent());
        }
    }

    @Test
    public void editingAPolicyFileChangesItsParametersAndABadValueIsRefusedKeepingThePrevious() throws Exception {
        Components.awaitThawCommand(context, "policies");
        Path file = Path.of(context.getProperty("felix.fileinstall.dir"), "dev.thaw.policy.prefetchwindow.cfg");
        String original = Files.readString(file);
        try (GogoSession gogo = new GogoSession(processor)) {
            assertTrue(gogo.execute("thaw:policies --json"), gogo.execute("thaw:policies --json").contains("64 KiB to 4096 KiB"));
            edit(file, "minWindowKiB = 16\nmaxWindowKiB = 512\n");
            gogo.executeUntil("thaw:policies --json", out -> out.contains("16 KiB to 512 KiB"), FILE_INSTALL);

            // A minimum above the maximum, then a maximum beyond the Metatype range: each refused, 16 to 512 staying.
            for (String bad : new String[] {"minWindowKiB = 1024\nmaxWindowKiB = 512\n", "minWindowKiB = 32\nmaxWindowKiB = 2097152\n"}) {
                edit(file, bad);
                awaitDelivered("prefetch-window", bad);
                String policies = gogo.execute("thaw:policies --json");
                assertTrue(policies, policies.contains("16 KiB to 512 KiB"));
            }
        } finally {
            edit(file, original);
        }
    }

    /**
     * Waits until SCR has handed {@code cfg}'s values to the policy: it calls the component's modified
     * method first, then updates the service's properties.
     */
    private void awaitDelivered(String policy, String cfg) throws Exception {
        Map<String, String> wanted = new HashMap<>();
        for (String line : cfg.split("\n")) {
            String[] kv = line.split("=", 2);
            wanted.put(kv[0].strip(), kv[1].strip());
        }
        String filter = "(thaw.policy.name=" + policy + ")";
        List<String> seen = Await.until(FILE_INSTALL, () -> {
            List<String> values = new ArrayList<>();
            ServiceReference<?>[] refs;
            try {
                refs = context.getServiceReferences("dev.thaw.api.policy.PagePolicy", filter);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException(filter, e);
            }
            for (String key : wanted.keySet()) {
                values.add(refs == null ? null : String.valueOf(refs[0].getProperty(key)));
            }
            return values;
        }, values -> values.equals(List.copyOf(wanted.values())));
        assertEquals("the configuration of " + policy + " delivered", List.copyOf(wanted.values()), seen);
    }

    /**
     * Replaces {@code file} as an editor saving it would: written beside it, then renamed over it, so that
     * FileInstall's poll never reads it half-written.
     */
    private static void edit(Path file, String text) throws java.io.IOException {
        Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temp, text);
        Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static String policyOf(String restoreJson) {
        Matcher m = Pattern.compile("\"policy\":\"([^\"]+)\"").matcher(restoreJson);
        assertTrue(restoreJson, m.find());
        return m.group(1);
    }

    private static String result(String output) {
        Matcher m = GuestBootsThroughGogoIT.RESULT.matcher(output);
        assertTrue(output, m.find());
        return m.group(1);
    }
}

package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
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
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The example third-party policy (examples/policy-top-down, built against nothing but the API bundle)
 * dropped into a deploy folder while Thaw runs appears in {@code thaw:policies}, restores a guest that
 * continues bit-exact, and is gone again when its jar is removed; a restore that then names it fails
 * with a message that says so. Policies that misbehave on purpose (itests/fixtures/policy-faulty) cannot
 * break a restore, and one built for another major version of the policy API does not resolve.
 */
@RunWith(PaxExamOnRuntime.class)
@ExamReactorStrategy(PerClass.class)
public class ThirdPartyPolicyIT {

    static final String EXAMPLE_JAR_PROPERTY = "thaw.itest.example.policy";
    static final String FIXTURE_API2_PROPERTY = "thaw.itest.fixture.api2";
    static final String FIXTURE_FAULTY_PROPERTY = "thaw.itest.fixture.faulty";
    /** The fixture's policies, and what thaw:stats must say about each (its policyProblem). */
    static final Map<String, String> FAULTY = Map.of(
            "faulty-throws", "failed: java.lang.IllegalStateException: faulty-throws fails",
            "faulty-out-of-range", "outside the",
            "faulty-slow", "disabled: 3 calls took over 10 ms",
            "faulty-hangs", "did not return within 500 ms");
    static final Duration FILE_INSTALL = Duration.ofSeconds(15);
    static final int GUEST_TIMEOUT_S = 60;

    @Inject
    BundleContext context;

    @Inject
    CommandProcessor processor;

    @Inject
    ConfigurationAdmin configAdmin;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options();
    }

    @Test
    public void theExamplePolicyDeployedLiveRestoresBitExactAndIsGoneWhenRemoved() throws Exception {
        Components.awaitThawCommand(context, "restore");
        Path jar = Path.of(System.getProperty(EXAMPLE_JAR_PROPERTY, "../examples/policy-top-down/target/thaw-policy-top-down-1.0.0.jar"));
        assertTrue("the example policy is built first: " + jar, Files.isRegularFile(jar));
        Path deploy = Files.createTempDirectory("thaw-deploy");
        Path snapshot = Files.createTempDirectory("thaw-example").resolve("guest.snap");
        org.osgi.service.cm.Configuration watcher = deployWatcher(deploy);
        try (GogoSession gogo = new GogoSession(processor)) {
            try {
                assertFalse(gogo.execute("thaw:policies --json").contains("\"top-down\""));
                Files.copy(jar, deploy.resolve(jar.getFileName()));
                gogo.executeUntil("thaw:policies --json", out -> out.contains("\"name\":\"top-down\""), FILE_INSTALL);

                gogo.execute("thaw:boot --name tp --workload function --memory 64M --working-set 4M --wait --timeout " + GUEST_TIMEOUT_S);
                gogo.execute("thaw:snapshot --resume tp " + snapshot);
                String restore = gogo.execute("thaw:restore --json --policy top-down --name tp-copy " + snapshot);
                assertTrue(restore, restore.contains("\"policy\":\"top-down\""));
                assertEquals("the copy continues bit-exact", result(gogo.execute("thaw:invoke tp")),
                        result(gogo.execute("thaw:invoke tp-copy")));
                String stats = gogo.execute("thaw:stats --wait --json tp-copy");
                assertTrue(stats, stats.contains("\"phase\":\"complete\"") && stats.contains("\"policyErrors\":0"));
                assertEquals("and after its full load", result(gogo.execute("thaw:invoke tp")),
                        result(gogo.execute("thaw:invoke tp-copy")));

                Files.delete(deploy.resolve(jar.getFileName()));
                gogo.executeUntil("thaw:policies --json", out -> !out.contains("\"name\":\"top-down\""), FILE_INSTALL);
                Exception e = assertThrows(Exception.class,
                        () -> gogo.execute("thaw:restore --policy top-down --name tp-late " + snapshot));
                assertTrue(e.getMessage(), e.getMessage().contains("no page policy named 'top-down' is installed"));
            } finally {
                gogo.stopQuietly(List.of("tp", "tp-copy"));
            }
        } finally {
            watcher.delete();
            deleteIfExist(deploy.resolve(jar.getFileName()), deploy, snapshot, snapshot.getParent());
        }
    }

    @Test
    public void aPolicyBuiltForAnotherMajorVersionOfTheApiDoesNotResolveAndThawSaysWhy() throws Exception {
        Components.awaitThawCommand(context, "policies");
        Path jar = Path.of(System.getProperty(FIXTURE_API2_PROPERTY, "fixtures/policy-api-2/target/thaw-policy-api-2-1.0.0.jar"));
        assertTrue("the fixture is built first: " + jar, Files.isRegularFile(jar));
        Path deploy = Files.createTempDirectory("thaw-deploy");
        org.osgi.service.cm.Configuration watcher = deployWatcher(deploy);
        try (GogoSession gogo = new GogoSession(processor)) {
            Files.copy(jar, deploy.resolve(jar.getFileName()));
            String text = gogo.executeUntil("thaw:policies", out -> out.contains("not usable: org.example.thaw.policy.future"),
                    FILE_INSTALL);
            assertTrue(text, text.contains("not usable: org.example.thaw.policy.future 1.0.0"));
            assertTrue(text, text.contains("it was built for policy API [2.0,3), this Thaw has dev.thaw.api.policy 1.1.0"));
            assertFalse("it is no policy here", gogo.execute("thaw:policies --json").contains("\"name\":\"future\""));
        } finally {
            watcher.delete();
            Files.deleteIfExists(deploy.resolve(jar.getFileName()));
            Files.deleteIfExists(deploy);
        }
    }

    @Test
    public void policiesThatThrowAnswerOutOfRangeCrawlOrHangCannotBreakARestore() throws Exception {
        Components.awaitThawCommand(context, "restore");
        Path jar = Path.of(System.getProperty(FIXTURE_FAULTY_PROPERTY, "fixtures/policy-faulty/target/thaw-policy-faulty-1.0.0.jar"));
        assertTrue("the fixture is built first: " + jar, Files.isRegularFile(jar));
        Path deploy = Files.createTempDirectory("thaw-deploy");
        Path snapshot = Files.createTempDirectory("thaw-faulty").resolve("guest.snap");
        org.osgi.service.cm.Configuration watcher = deployWatcher(deploy);
        List<String> made = new ArrayList<>(List.of("fp"));
        try (GogoSession gogo = new GogoSession(processor)) {
            try {
                Files.copy(jar, deploy.resolve(jar.getFileName()));
                gogo.executeUntil("thaw:policies --json", out -> FAULTY.keySet().stream().allMatch(
                        name -> out.contains("\"name\":\"" + name + "\"")), FILE_INSTALL);

                gogo.execute("thaw:boot --name fp --workload function --memory 64M --working-set 4M --wait --timeout " + GUEST_TIMEOUT_S);
                gogo.execute("thaw:snapshot --resume fp " + snapshot);
                // What the guest computes next had it never stopped: every copy must compute the same.
                String first = result(gogo.execute("thaw:invoke fp"));
                String second = result(gogo.execute("thaw:invoke fp"));
                for (Map.Entry<String, String> policy : FAULTY.entrySet()) {
                    String copy = "fp-" + policy.getKey();
                    made.add(copy);
                    gogo.execute("thaw:restore --policy " + policy.getKey() + " --name " + copy + " " + snapshot);
                    assertEquals(copy + " continues bit-exact", first, result(gogo.execute("thaw:invoke " + copy)));
                    String stats = gogo.execute("thaw:stats --wait --json " + copy);
                    assertTrue(stats, stats.contains("\"phase\":\"complete\""));
                    assertFalse(stats, stats.contains("\"policyErrors\":0,"));
                    assertTrue(stats, stats.contains(policy.getValue()));
                    assertEquals(copy + " after its full load", second, result(gogo.execute("thaw:invoke " + copy)));
                    gogo.execute("thaw:stop " + copy);
                    made.remove(copy);
                }
            } finally {
                gogo.stopQuietly(made);
            }
        } finally {
            watcher.delete();
            deleteIfExist(deploy.resolve(jar.getFileName()), deploy, snapshot, snapshot.getParent());
        }
    }

    private static void deleteIfExist(Path... paths) throws java.io.IOException {
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    /** A FileInstall watcher of {@code dir}, as config/org.apache.felix.fileinstall-deploy.cfg makes one for deploy/. */
    private org.osgi.service.cm.Configuration deployWatcher(Path dir) throws Exception {
        org.osgi.service.cm.Configuration watcher = configAdmin.createFactoryConfiguration("org.apache.felix.fileinstall", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("felix.fileinstall.dir", dir.toString());
        props.put("felix.fileinstall.filter", ".*\\.jar");
        props.put("felix.fileinstall.poll", "200");
        props.put("felix.fileinstall.noInitialDelay", "true");
        watcher.update(props);
        return watcher;
    }

    private static String result(String output) {
        Matcher m = GuestBootsThroughGogoIT.RESULT.matcher(output);
        assertTrue(output, m.find());
        return m.group(1);
    }
}

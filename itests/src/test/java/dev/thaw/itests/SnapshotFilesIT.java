package dev.thaw.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

/**
 * Snapshot files from the shell, as a user meets them: {@code thaw:formats} lists the formats, {@code thaw:samples}
 * writes the QEMU-written samples, {@code thaw:inspect} and {@code thaw:diff} read them (the offset form
 * included), and bad files get one line saying why. Needs no KVM.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SnapshotFilesIT {

    @Inject
    BundleContext context;

    @Inject
    CommandProcessor processor;

    @Configuration
    public Option[] config() {
        return ThawDistribution.options();
    }

    @Test
    public void qemuSamplesAreInspectedAndComparedFromTheShell() throws Exception {
        Components.awaitThawCommand(context, "inspect");
        Path dir = Files.createTempDirectory("thaw-samples");
        try (GogoSession gogo = new GogoSession(processor)) {
            String formats = gogo.execute("thaw:formats --json");
            assertTrue(formats, formats.contains("\"name\":\"qemu-mapped-ram\"") && formats.contains("\"name\":\"thaw\""));
            String written = gogo.execute("thaw:samples --json --write " + dir);
            assertTrue(written, written.contains("\"name\":\"qemu-q35.mr\"") && Files.size(dir.resolve("qemu-8g-sparse.mr")) > 8L << 30);

            String q35 = gogo.execute("thaw:inspect --json " + dir.resolve("qemu-q35.mr"));
            assertTrue(q35, q35.contains("\"format\":\"qemu-mapped-ram\"") && q35.contains("\"machine\":\"pc-q35-10.0\"")
                    && q35.contains("\"capabilities\":[\"mapped-ram\"]"));
            assertTrue(q35, q35.contains("{\"name\":\"0000:00:00.0/mch\",\"instance\":0,\"version\":"));
            assertTrue(q35, q35.contains("{\"name\":\"pc.ram\",\"guestAddress\":-1,\"size\":33554432,\"pageSize\":4096,\"presentPages\":5,"));

            // The offset form holds the same guest as qemu-microvm.mr: same contents, no page differs.
            String offset = "file:" + dir.resolve("qemu-offset.mr") + ",offset=4660";
            assertEquals(sha256OfFirstRegion(gogo.execute("thaw:inspect --sha256 --json " + dir.resolve("qemu-microvm.mr"))),
                    sha256OfFirstRegion(gogo.execute("thaw:inspect --sha256 --json " + offset)));
            String diff = gogo.execute("thaw:diff --json " + dir.resolve("qemu-microvm.mr") + " " + offset);
            assertTrue(diff, diff.contains("\"pages\":4115,\"differentPages\":0"));

            // thaw:bench qemu-file: every policy loads the main RAM block; QEMU's row is measured or says why not.
            Path results = dir.resolve("bench");
            String bench = gogo.execute("thaw:bench --repeat 1 --results " + results + " --json qemu-file " + dir.resolve("qemu-q35.mr"));
            assertTrue(bench, bench.contains("\"region\":\"pc.ram\",\"regionBytes\":33554432") && bench.contains("\"openMs\":"));
            for (String mode : new String[] {"thaw-eager", "sequential", "hot-page-first", "prefetch-window"}) {
                assertTrue(mode + " in " + bench, Pattern.compile("\\{\"mode\":\"" + mode + "\",\"fullLoadMs\":[0-9.]+,").matcher(bench).find());
            }
            assertTrue(bench, Pattern.compile("\\{\"mode\":\"qemu\",\"fullLoadMs\":[0-9.]+,").matcher(bench).find()
                    || bench.contains("qemu row skipped: ") || bench.contains("qemu row failed"));
            try (var runs = Files.list(results)) {
                Path run = runs.findFirst().orElseThrow();
                assertTrue(Files.isRegularFile(run.resolve("results.json")));
                Files.delete(run.resolve("results.json"));
                Files.delete(run);
            }
            Files.delete(results);

            assertRefused(gogo, "thaw:inspect " + dir.resolve("qemu-legacy.mig"), "without the mapped-ram capability");
            assertRefused(gogo, "thaw:diff " + dir.resolve("qemu-microvm.mr") + " " + dir.resolve("qemu-pc.mr"), "not the same layout");
            Path cut = dir.resolve("cut.mr");
            Files.copy(dir.resolve("qemu-pc.mr"), cut);
            try (FileChannel ch = FileChannel.open(cut, StandardOpenOption.WRITE)) {
                ch.truncate(4000);
            }
            assertRefused(gogo, "thaw:inspect " + cut, cut + ": RAM block pc.ram (at byte ");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static void assertRefused(GogoSession gogo, String command, String why) {
        Exception e = assertThrows(Exception.class, () -> gogo.execute(command));
        assertTrue(e.getMessage(), e.getMessage().contains(why) && !e.getMessage().contains("\n"));
    }

    private static String sha256OfFirstRegion(String inspect) {
        Matcher m = Pattern.compile("\"sha256\":\"([0-9a-f]{64})\"").matcher(inspect);
        assertTrue(inspect, m.find());
        return m.group(1);
    }
}

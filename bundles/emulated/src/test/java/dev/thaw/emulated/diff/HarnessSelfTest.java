package dev.thaw.emulated.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The harness against itself: two Unicorns agree on everything, and every form is generated. */
class HarnessSelfTest {

    @Test
    void twoUnicornsAgree() {
        long seed = 42;
        try (UnicornCpu oracle = new UnicornCpu(); UnicornCpu other = new UnicornCpu("unicorn-2")) {
            long t0 = System.nanoTime();
            DiffRunner r = new DiffRunner(oracle, other, new DiffRunner.Config(seed, Long.getLong("diff.instructions", 30_000))).run();
            System.out.println(r.summary() + String.format(" (%.1f s)", (System.nanoTime() - t0) / 1e9));
            r.mismatches().forEach(System.out::println);
            assertEquals(0, r.mismatchCount());
            for (Map.Entry<String, DiffRunner.Tally> e : r.tallies().entrySet()) {
                assertTrue(e.getValue().executed > 0, e.getKey() + " never ran");
            }
        }
    }
}

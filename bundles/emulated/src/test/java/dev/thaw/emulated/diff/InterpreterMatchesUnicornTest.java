package dev.thaw.emulated.diff;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Thaw's interpreter against Unicorn, instruction by instruction, over the whole form table
 * ({@link Forms}): at least 100,000 compared instructions per run, every form at every operand size at
 * least {@value #MIN_PER_FORM} times. The seed is fixed so a failure reproduces; {@code -Ddiff.seed=N}
 * runs another one and {@code -Ddiff.instructions=N} changes the length.
 */
class InterpreterMatchesUnicornTest {

    static final long DEFAULT_SEED = 0x7ea7_d1ffL;
    static final int MIN_PER_FORM = 20;

    @Test
    void userModeInstructionsMatchUnicorn() {
        check(3, Long.getLong("diff.instructions", 120_000));
    }

    @Test
    void kernelModeInstructionsMatchUnicorn() {
        check(0, Long.getLong("diff.instructions", 120_000) / 4);
    }

    private static void check(int cpl, long instructions) {
        long seed = Long.getLong("diff.seed", DEFAULT_SEED + cpl);
        try (UnicornCpu oracle = new UnicornCpu(); InterpreterCpu cpu = new InterpreterCpu(cpl)) {
            long t0 = System.nanoTime();
            DiffRunner r = new DiffRunner(oracle, cpu, new DiffRunner.Config(seed, instructions)).run();
            System.out.println(r.summary() + String.format(" in %.1f s", (System.nanoTime() - t0) / 1e9));
            System.out.println(Forms.summary());
            if (Boolean.getBoolean("diff.verbose")) {
                r.tallies().forEach((name, t) -> System.out.println(String.format("  %-45s %6d executed %5d exceptions"
                        + " %5d mismatched", name, t.executed, t.exceptions, t.mismatched)));
            }
            List<String> problems = new ArrayList<>();
            if (r.mismatchCount() > 0) {
                StringBuilder b = new StringBuilder(r.mismatchCount() + " mismatches; by form (mismatched/executed):\n");
                r.tallies().forEach((name, t) -> {
                    if (t.mismatched > 0) {
                        b.append("  ").append(name).append(": ").append(t.mismatched).append('/').append(t.executed)
                                .append('\n');
                    }
                });
                r.mismatches().forEach(m -> b.append(m).append('\n'));
                problems.add(b.toString());
            }
            if (instructions >= 100_000 || Boolean.getBoolean("diff.coverage")) {
                for (Map.Entry<String, DiffRunner.Tally> e : r.tallies().entrySet()) {
                    if (e.getValue().executed < MIN_PER_FORM && !e.getKey().startsWith("(")) {
                        problems.add(e.getKey() + " ran " + e.getValue().executed + " times, fewer than "
                                + MIN_PER_FORM);
                    }
                }
            }
            if (!problems.isEmpty()) {
                System.out.println(String.join("\n", problems));
                fail(String.join("\n", problems));
            }
            assertTrue(r.compared() >= instructions);
        }
    }
}

package dev.thaw.emulated.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The harness against itself: two Unicorns agree on everything and every form is generated; a planted
 * bug is reported on exactly the forms it affects, and a flipped flag the SDM leaves undefined is not.
 */
class HarnessSelfTest {

    @Test
    void twoUnicornsAgree() {
        long seed = 42;
        try (UnicornCpu oracle = new UnicornCpu(); UnicornCpu other = new UnicornCpu("unicorn-2")) {
            long t0 = System.nanoTime();
            DiffRunner r = new DiffRunner(oracle, other,
                    new DiffRunner.Config(seed, Long.getLong("diff.instructions", 30_000))).run();
            System.out.println(r.summary() + String.format(" (%.1f s)", (System.nanoTime() - t0) / 1e9));
            r.mismatches().forEach(System.out::println);
            assertEquals(0, r.mismatchCount());
            for (Map.Entry<String, DiffRunner.Tally> e : r.tallies().entrySet()) {
                assertTrue(e.getValue().executed > 0, e.getKey() + " never ran");
            }
        }
    }

    private static Set<String> mismatchedForms(DiffRunner r) {
        Set<String> forms = new TreeSet<>();
        r.tallies().forEach((name, t) -> {
            if (t.mismatched > 0) {
                forms.add(name);
            }
        });
        return forms;
    }

    @Test
    void aWrongFlagIsReportedOnExactlyTheFormsThatProduceIt() {
        // ADC r/m, r (opcode 11) at 16/32/64 bits with CF flipped: every instance differs
        try (UnicornCpu oracle = new UnicornCpu(); FaultyCpu faulty = new FaultyCpu(op -> op == 0x11, Flags.CF, 0)) {
            DiffRunner r = new DiffRunner(oracle, faulty, new DiffRunner.Config(7, 8_000)).run();
            Set<String> expected = new TreeSet<>();
            for (String s : new String[] {"16", "32", "64"}) {
                expected.add("ADC r/m" + s + ", r" + s + " [reg]");
                expected.add("ADC r/m" + s + ", r" + s + " [mem]");
            }
            assertEquals(expected, mismatchedForms(r), r.summary());
            String report = r.mismatches().getFirst().toString();
            assertTrue(report.contains("differ in CF") && report.contains("bytes ") && report.contains("seed 7"), report);
            assertEquals(r.tallies().get("ADC r/m32, r32 [reg]").executed,
                    r.tallies().get("ADC r/m32, r32 [reg]").mismatched);
        }
    }

    @Test
    void anUndefinedFlagIsNotCompared() {
        // AND leaves AF undefined: flipping it after AND r/m, r (opcode 21) must go unreported
        try (UnicornCpu oracle = new UnicornCpu(); FaultyCpu faulty = new FaultyCpu(op -> op == 0x21, Flags.AF, 0)) {
            DiffRunner r = new DiffRunner(oracle, faulty, new DiffRunner.Config(8, 8_000)).run();
            assertEquals(Set.of(), mismatchedForms(r), r.summary());
            assertTrue(r.tallies().get("AND r/m32, r32 [reg]").executed > 0);
        }
    }

    @Test
    void aStrayMemoryWriteIsReported() {
        // XCHG r/m8, r8 (opcode 86) also corrupts a data byte
        long at = GuestLayout.DATA + 0x1234;
        try (UnicornCpu oracle = new UnicornCpu(); FaultyCpu faulty = new FaultyCpu(op -> op == 0x86, 0, at)) {
            DiffRunner r = new DiffRunner(oracle, faulty, new DiffRunner.Config(9, 8_000)).run();
            assertEquals(Set.of("XCHG r/m8, r8 [mem]", "XCHG r/m8, r8 [reg]"), mismatchedForms(r), r.summary());
            assertTrue(r.mismatches().getFirst().toString().contains(Text.hex(at) + ": expected"));
        }
    }
}

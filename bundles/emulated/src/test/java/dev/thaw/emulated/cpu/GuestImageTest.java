package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.testing.KnownAnswers;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The real test guest (guest/prebuilt/thaw-guest.bin) on the interpreter, checked against its known answers. */
class GuestImageTest {

    private static final long MIB = 1 << 20;
    private static final int FILL = 0, TOUCH = 1, FUNCTION = 2, FAULT = 3;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void fillOnOneVcpuPrintsTheKnownChecksum() throws Exception {
        try (GuestHarness h = new GuestHarness(64 * MIB, 1, FILL, 1, 0)) {
            long t0 = System.nanoTime();
            StopReason r = h.runSingle(Long.MAX_VALUE);
            long t1 = System.nanoTime();
            Interpreter cpu = h.cpus.get(0);
            System.out.printf("fill 64 MiB, 1 vCPU: %d instructions in %.2f s (%.1f M/s)%n", cpu.instructions(),
                    (t1 - t0) / 1e9, cpu.instructions() / ((t1 - t0) / 1e3));
            assertEquals(StopReason.Kind.STOP_REQUESTED, r.kind(), () -> r + "\n" + h.console + "\n"
                    + cpu.lastUnimplemented());
            assertEquals("thaw-guest 1 vcpus=1 mem=64 workload=fill seed=1", h.line("thaw-guest"), h.console::toString);
            assertEquals("result fill a984f427d1253169", h.line("result"), h.console::toString);
            assertEquals(0, h.exitCode);
            assertEquals(0, cpu.unimplementedCount(), cpu::lastUnimplemented);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void fillOnSeveralVcpusGivesTheSameChecksum(int vcpus) throws Exception {
        try (GuestHarness h = new GuestHarness(64 * MIB, vcpus, FILL, 1, 0)) {
            StopReason r = h.runAll();
            assertEquals(StopReason.Kind.STOP_REQUESTED, r.kind(), () -> r + "\n" + h.console);
            assertEquals("thaw-guest 1 vcpus=" + vcpus + " mem=64 workload=fill seed=1", h.line("thaw-guest"),
                    h.console::toString);
            assertEquals("result fill a984f427d1253169", h.line("result"), h.console::toString);
            assertEquals(0, h.exitCode);
            // Whether an AP has reached its HLT when the BSP exits is a race, so it is not asserted.
            for (Interpreter cpu : h.cpus) {
                assertEquals(0, cpu.unimplementedCount(), cpu::lastUnimplemented);
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void touchPrintsTheKnownChecksum() throws Exception {
        try (GuestHarness h = new GuestHarness(256 * MIB, 1, TOUCH, 7, 32 * MIB)) {
            StopReason r = h.runSingle(Long.MAX_VALUE);
            assertEquals(StopReason.Kind.STOP_REQUESTED, r.kind(), () -> r + "\n" + h.console);
            assertEquals("result touch 8de0d17337370957", h.line("result"), h.console::toString);
            assertEquals(0, h.cpus.get(0).unimplementedCount(), h.cpus.get(0)::lastUnimplemented);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void faultWorkloadPanicsWithThePageFault() throws Exception {
        try (GuestHarness h = new GuestHarness(64 * MIB, 1, FAULT, 1, 0)) {
            assertEquals(StopReason.Kind.STOP_REQUESTED, h.runSingle(Long.MAX_VALUE).kind());
            String panic = h.line("panic");
            assertEquals(true, panic != null && panic.startsWith("panic: vector 14 err 0x4 rip 0x")
                    && panic.endsWith(" cr2 0xdead000000"), h.console::toString);
            assertEquals(0xee, h.exitCode);
        }
    }

    /**
     * function: the guest sleeps in HLT until a line arrives on the UART, takes the UART interrupt, runs an
     * invocation and prints its result. Known answers from guest/README.md; the second invocation runs on
     * a fresh interpreter restored from the state exported while the guest waited. With a resident set the
     * init hashes more memory than the invocations read; with a write percent below 100 the invocations write
     * only some of the pages they read.
     */
    @ParameterizedTest(name = "{0}")
    @FieldSource("dev.thaw.testing.KnownAnswers#FUNCTION_CASES")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void functionTakesUartInterruptsAndPrintsTheKnownResults(KnownAnswers.FunctionCase known) throws Exception {
        List<String> answers = known.answers();
        try (GuestHarness h = new GuestHarness(KnownAnswers.FUNCTION_MEMORY, 1, FUNCTION, 42, KnownAnswers.FUNCTION_WORKING_SET,
                known.residentBytes(), known.writePercent())) {
            assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind(), h.console::toString);
            assertEquals(answers.subList(0, 1), h.lines("result"));
            h.input("invoke\n");
            assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind());
            h.restoreInto(0);
            h.input("bogus\ni\n");
            assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind());
            h.input("invoke\r");
            assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind());
            assertEquals(answers, h.lines("result"));
            assertEquals(List.of("error unknown command bogus"), h.lines("error"));
            assertEquals(0, h.cpus.get(0).unimplementedCount(), h.cpus.get(0)::lastUnimplemented);
        }
    }

    /** The known answers are what guest/README.md's formulas give, computed here without the guest. */
    @ParameterizedTest(name = "{0}")
    @FieldSource("dev.thaw.testing.KnownAnswers#FUNCTION_CASES")
    void theKnownFunctionAnswersAreTheModels(KnownAnswers.FunctionCase known) {
        long filled = known.residentBytes() == 0 ? KnownAnswers.FUNCTION_WORKING_SET : known.residentBytes();
        int pages = (int) (KnownAnswers.FUNCTION_WORKING_SET / 4096);
        long[] written = new long[3];
        List<Long> model = new ArrayList<>(List.of(GuestModel.functionInit(filled / 4096, 42)));
        for (long r : GuestModel.functionInvocations(pages, 42, known.writePercent(), 3, written)) {
            model.add(r);
        }
        assertEquals(known.answers(), model.stream().map(r -> "result function " + HexFormat.of().toHexDigits(r)).toList());
        for (long w : written) {
            // about the write percent of the pages, spread by a hash: within 4 standard deviations
            double expected = pages * known.writePercent() / 100.0;
            double sd = Math.sqrt(pages * known.writePercent() / 100.0 * (1 - known.writePercent() / 100.0));
            assertTrue(Math.abs(w - expected) <= 4 * sd, () -> w + " pages written, not about " + expected);
        }
    }

    /**
     * A boot page from before the write percent has 0 there: the invocations write every page they read. (The second
     * invocation is the first whose answer depends on it.)
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void functionTakesAWritePercentOf0As100() throws Exception {
        try (GuestHarness h = new GuestHarness(KnownAnswers.FUNCTION_MEMORY, 1, FUNCTION, 42, KnownAnswers.FUNCTION_WORKING_SET,
                0, 0)) {
            assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind(), h.console::toString);
            for (int k = 1; k <= 2; k++) {
                h.input("i\n");
                assertEquals(StopReason.Kind.HALTED, h.runUntilStopped().kind());
            }
            assertEquals(KnownAnswers.FUNCTION.subList(0, 3), h.lines("result"), h.console::toString);
        }
    }

    /** A write percent above 100 is a parameter error, found before the init: one line, exit code 1. */
    @ParameterizedTest(name = "write percent {0}")
    @ValueSource(longs = {101, 1000, -1})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void functionRefusesAWritePercentAbove100(long writePercent) throws Exception {
        try (GuestHarness h = new GuestHarness(256 * MIB, 1, FUNCTION, 42, 32 * MIB, 0, writePercent)) {
            assertEquals(StopReason.Kind.STOP_REQUESTED, h.runSingle(Long.MAX_VALUE).kind(), h.console::toString);
            assertEquals(List.of("error write percent above 100"), h.lines("error"), h.console::toString);
            assertEquals(List.of(), h.lines("result"));
            assertEquals(1, h.exitCode);
        }
    }

    /**
     * A resident set smaller than the working set, or larger than the RAM above the guest's own pages, is a
     * parameter error: one line, exit code 1. (A {@code BootRequest} refuses both before the guest could see them.)
     */
    @ParameterizedTest(name = "resident set {0} bytes")
    @CsvSource({
        "16777216, error resident set smaller than working set",
        "4096, error resident set smaller than working set",
        "100, error resident set smaller than working set",
        // one page more than the 252 MiB above the guest's own 4 MiB
        "264245248, error resident set larger than guest RAM"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void functionRefusesAResidentSetItCannotKeep(long residentBytes, String error) throws Exception {
        try (GuestHarness h = new GuestHarness(256 * MIB, 1, FUNCTION, 42, 32 * MIB, residentBytes)) {
            assertEquals(StopReason.Kind.STOP_REQUESTED, h.runSingle(Long.MAX_VALUE).kind(), h.console::toString);
            assertEquals(List.of(error), h.lines("error"), h.console::toString);
            assertEquals(List.of(), h.lines("result"));
            assertEquals(1, h.exitCode);
        }
    }

    /**
     * Snapshot and restore at arbitrary instructions: the vCPU is stopped after every instruction through
     * the boot (32-bit protected mode, the switch to long mode, CPL changes, interrupts), then after random
     * budgets; each time its state is exported and imported into a fresh interpreter, which continues.
     * The guest must compute exactly what an uninterrupted run computes.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void exportAndImportAtAnyInstructionContinuesIdentically() throws Exception {
        long ram = 12 * MIB;
        String expected = "result fill " + HexFormat.of().toHexDigits(GuestModel.fill(ram, 5));
        try (GuestHarness h = new GuestHarness(ram, 1, FILL, 5, 0)) {
            Random random = new Random(42);
            StopReason r = null;
            int restores = 0;
            for (long step = 0; h.exitCode < 0; step++) {
                long budget = step < 20_000 ? 1 : 1 + random.nextInt(200_000);
                r = h.cpus.get(0).run(budget);
                if (r.kind() != StopReason.Kind.BUDGET) {
                    break;
                }
                h.restoreInto(0);
                restores++;
            }
            assertEquals(StopReason.Kind.STOP_REQUESTED, r.kind(), String.valueOf(r));
            assertEquals(expected, h.line("result"), h.console::toString);
            assertEquals(0, h.exitCode);
            System.out.println(restores + " restores");
        }
    }
}

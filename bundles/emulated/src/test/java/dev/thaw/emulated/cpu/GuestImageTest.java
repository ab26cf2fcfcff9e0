package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The real test guest (guest/prebuilt/thaw-guest.bin) on the interpreter, checked against its known answers. */
class GuestImageTest {

    private static final long MIB = 1 << 20;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void fillOnOneVcpuPrintsTheKnownChecksum() throws Exception {
        try (GuestHarness h = new GuestHarness(64 * MIB, 1, 0, 1, 0)) {
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
}

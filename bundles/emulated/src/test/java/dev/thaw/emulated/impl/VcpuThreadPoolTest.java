package dev.thaw.emulated.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.VmExit;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** vCPUs run on threads the runtime keeps: named for their vCPU while they run it, and reused. */
class VcpuThreadPoolTest {

    private static final int[] EXIT = {0xb8, 0x07, 0, 0, 0, 0x66, 0xba, 0x01, 0x05, 0xef, 0xf4}; // out 0x501, 7

    private static long vcpuThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vcpu-")).count();
    }

    private static Set<Thread> poolThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(EmulatedRuntime.POOL_NAME)).collect(Collectors.toSet());
    }

    @Test
    void aVcpuThreadIsNamedForItsVcpuAndRunsTheNextVmsToo() throws Exception {
        EmulatedRuntime runtime = new EmulatedRuntime();
        try {
            long before = vcpuThreads();
            Thread first;
            try (TinyVm t = new TinyVm(runtime, "pool-a", 1)) {
                t.put(0x10000, EXIT);
                t.enterProtected32(0, 0x10000);
                assertEquals(VmExit.Kind.STOPPED, t.run(Duration.ofSeconds(10)).kind());
                first = t.exitThread;
                assertEquals(7, t.exitCode);
            }
            assertTrue(first.getName().startsWith(EmulatedRuntime.POOL_NAME), "idle again: " + first.getName());
            assertTrue(first.isAlive());
            assertEquals(before, vcpuThreads(), "no thread is named for a vCPU that stopped");
            // The pool keeps spares, and the first thread may still be on its way back to them when the next
            // VM starts: any thread that was waiting may run it, but none may be started for it.
            Set<Thread> waiting = poolThreads();
            assertTrue(waiting.contains(first), "the first vCPU's thread waits in the pool");
            try (TinyVm t = new TinyVm(runtime, "pool-b", 1)) {
                t.put(0x10000, EXIT);
                t.enterProtected32(0, 0x10000);
                t.vm.start(new dev.thaw.api.runtime.IoHandler() {
                    @Override
                    public long portRead(int vcpu, int port, int size) {
                        return 0;
                    }

                    @Override
                    public void portWrite(int vcpu, int port, int size, long value) {
                        assertEquals("vcpu-pool-b-0", Thread.currentThread().getName());
                        t.exitThread = Thread.currentThread();
                        t.vm.stop();
                    }
                }, exit -> { });
                assertEquals(VmExit.Kind.STOPPED, t.vm.awaitExit(Duration.ofSeconds(10)).orElseThrow().kind());
                assertTrue(waiting.contains(t.exitThread), "a thread that was waiting ran the next vCPU: " + t.exitThread);
            }
        } finally {
            runtime.close();
        }
    }
}

package dev.thaw.kvm.impl;

import dev.thaw.api.state.VcpuState;
import dev.thaw.api.state.VmArchState;
import dev.thaw.api.runtime.IoHandler;
import dev.thaw.kvm.KvmException;
import dev.thaw.kvm.Vcpu;
import dev.thaw.kvm.VcpuSetup;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.kvm.VmOptions;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway VM at activation that goes through every step of a real VM's life: memory, irqchip and
 * PIT, a vCPU with its CPUID and setup, a run with port I/O exits, pause, vCPU and VM state saved and
 * restored, an IRQ line, resume, stop, close. It probes the host's {@link SaveableMsrs} and leaves
 * every class, layout and downcall of that path loaded and linked, so the first real VM costs what
 * the later ones do. A failure is logged, not thrown: the first real VM then does the same work.
 *
 * <p>The state round trip is repeated {@link #STATE_ROUNDS} times so that the JIT compiles the state
 * marshalling every restore runs: interpreted, restoring one vCPU's state took ~650 µs here (its
 * ioctls ~100 µs), compiled ~170 µs. Creating the VM, its vCPU and thread costs kernel time instead
 * and is done once.
 */
final class Warmup {

    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

    static final String VM_NAME = "thaw-warmup";
    static final long MEMORY = 64 << 10;
    static final long ENTRY = 0x1000;
    static final int PORT = 0x80;
    /** A line nobody listens to; lowering it changes nothing. */
    static final int IRQ = 4;
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    /** Enough for C1 to compile the marshalling (~200 invocations); ~60 ms here. */
    static final int STATE_ROUNDS = 200;
    /**
     * <pre>
     * 1000  e4 80    in   $0x80,%al
     * 1002  e6 80    out  %al,$0x80
     * 1004  f4       hlt              (the in-kernel LAPIC keeps the vCPU halted in KVM_RUN)
     * </pre>
     */
    private static final byte[] GUEST = {(byte) 0xe4, (byte) PORT, (byte) 0xe6, (byte) PORT, (byte) 0xf4};

    private Warmup() {}

    static void run(KvmHypervisor hypervisor) {
        try (VirtualMachine vm = hypervisor.createVm(VmOptions.named(VM_NAME))) {
            vm.addMemory(0, MEMORY);
            vm.guestMemory(ENTRY, GUEST.length).copyFrom(MemorySegment.ofArray(GUEST));
            Vcpu vcpu = vm.createVcpus(1, VcpuSetup.protectedMode32(ENTRY, 0)).getFirst();
            CountDownLatch out = new CountDownLatch(1);
            vm.start(new IoHandler() {
                @Override
                public long portRead(int index, int port, int size) {
                    return 0;
                }

                @Override
                public void portWrite(int index, int port, int size, long value) {
                    out.countDown();
                }
            }, exit -> {});
            if (!out.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new KvmException("its guest did not reach its out within " + TIMEOUT);
            }
            vm.pause();
            for (int i = 0; i < STATE_ROUNDS; i++) {
                VcpuState state = vcpu.saveState();
                VmArchState arch = vm.saveArchState();
                vcpu.restoreState(state);
                vm.restoreArchState(arch);
            }
            vm.setIrqLine(IRQ, false);
            vm.resume();
            vm.stop();
        } catch (RuntimeException e) {
            LOG.warn("the warm-up VM failed, so the first VM will be slower: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("interrupted while warming up; the first VM will be slower");
        }
    }
}

package dev.thaw.kvm;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.testing.Guests;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;

/** Test support: VMs with 2 MiB of memory at 0 running one of the {@link Guests}, made through the KVM interface. */
final class TestVms {

    static final long MEMORY = 2 << 20;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private TestVms() {}

    static String uniqueName(String prefix) {
        return prefix + COUNTER.incrementAndGet();
    }

    /** A VM with low memory, {@code code} at the entry point and {@code vcpus} vCPUs set up for it. */
    static VirtualMachine create(Hypervisor hypervisor, String prefix, byte[] code, int vcpus) {
        VirtualMachine vm = hypervisor.createVm(VmOptions.named(uniqueName(prefix)));
        vm.addMemory(0, MEMORY);
        vm.guestMemory(Guests.ENTRY, code.length).copyFrom(MemorySegment.ofArray(code));
        vm.createVcpus(vcpus, VcpuSetup.protectedMode32(Guests.ENTRY, 0x7000));
        return vm;
    }

    static int counter(VirtualMachine vm) {
        return vm.guestMemory(Guests.COUNTER, 4).get(ValueLayout.JAVA_INT, 0);
    }

    /** Answers every {@code in} with 0x5a and ignores every {@code out}: the guests here make none. */
    static class Recorder implements IoHandler {
        @Override
        public long portRead(int vcpu, int port, int size) {
            return 0x5a;
        }

        @Override
        public void portWrite(int vcpu, int port, int size, long value) {}
    }
}

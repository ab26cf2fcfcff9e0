package dev.thaw.kvm.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.thaw.kvm.Vcpu;
import dev.thaw.kvm.VcpuSetup;
import dev.thaw.kvm.VirtualMachine;
import dev.thaw.kvm.VmOptions;
import dev.thaw.linux.kvm.Kvm;
import dev.thaw.testing.RequiresKvm;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The saveable MSRs are a host fact: probed once (on the warm-up VM at activation), the answer is what a
 * fresh probe finds on any vCPU of any VM, whatever its PIT, vCPU count or vCPU index.
 */
@RequiresKvm
@Timeout(60)
class SaveableMsrsTest {

    private static KvmHypervisor hypervisor;
    private static long[] candidates;

    @BeforeAll
    static void openKvm() {
        hypervisor = new KvmHypervisor();
        try (Kvm kvm = Kvm.open()) {
            candidates = kvm.msrIndexList();
        }
    }

    @AfterAll
    static void closeKvm() {
        hypervisor.close();
    }

    @Test
    void everyVcpuOfEveryShapeOfVmFindsTheCachedSet() {
        long[] cached = null;
        for (VmOptions options : new VmOptions[] {VmOptions.named("msrs-pit"), VmOptions.named("msrs-nopit").withPit(false)}) {
            for (int count : new int[] {1, 4}) {
                try (VirtualMachine vm = hypervisor.createVm(options)) {
                    vm.addMemory(0, 1 << 20);
                    for (Vcpu v : vm.createVcpus(count, VcpuSetup.none())) {
                        KvmVcpu vcpu = (KvmVcpu) v;
                        long[] fresh = SaveableMsrs.probe(vcpu.fd(), candidates, vm.name());
                        long[] reused = hypervisor.saveableMsrs().get(vcpu.fd(), candidates, vm.name());
                        assertArrayEquals(fresh, reused, options + ", " + count + " vCPUs, vCPU " + v.index());
                        assertArrayEquals(fresh, ((KvmVm) vm).saveableMsrs());
                        if (cached != null) {
                            assertSame(cached, reused, "probed once, then reused");
                        }
                        cached = reused;
                    }
                }
            }
        }
        if (Arrays.stream(cached).anyMatch(i -> i == SaveableMsrs.MSR_IA32_TSC_DEADLINE)) {
            assertEquals(SaveableMsrs.MSR_IA32_TSC_DEADLINE, cached[cached.length - 1], "TSC_DEADLINE restores last");
        }
    }
}

package dev.thaw.linux.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.Regs;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.testing.RequiresKvm;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The thin handles against the real /dev/kvm: a VM with one vCPU, state read and written back. */
@RequiresKvm
@Timeout(30)
class KvmHandlesTest {

    @Test
    void aVcpuRunsAGuestOutAndItsStateReadsBack() {
        try (Kvm kvm = Kvm.open()) {
            assertEquals(KvmConstants.KVM_API_VERSION, kvm.apiVersion());
            assertTrue(kvm.checkExtension(KvmConstants.KVM_CAP_USER_MEMORY) > 0);
            int mmapSize = kvm.vcpuMmapSize();
            List<CpuidEntry> cpuid = kvm.supportedCpuid();
            assertFalse(cpuid.isEmpty());
            long[] msrs = kvm.msrIndexList();
            assertTrue(msrs.length > 0);
            System.out.printf("mmap size %d, %d CPUID entries, %d MSRs in the index list, %d feature MSRs%n",
                    mmapSize, cpuid.size(), msrs.length, kvm.featureMsrIndexList().length);
            try (VmFd vm = kvm.createVm(0);
                    Mapping memory = Mapping.anonymous(0x10000, Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_PRIVATE | Libc.MAP_NORESERVE)) {
                vm.setUserMemoryRegion(0, 0, 0, memory.size(), memory.address());
                // mov al, 0x42; out 0x10, al; hlt  -- at 0x1000, real mode
                memory.segment().asSlice(0x1000, 5).copyFrom(java.lang.foreign.MemorySegment.ofArray(
                        new byte[] {(byte) 0xb0, 0x42, (byte) 0xe6, 0x10, (byte) 0xf4}));
                try (VcpuFd vcpu = vm.createVcpu(0, mmapSize)) {
                    vcpu.setCpuid2(cpuid);
                    var sregs = vcpu.getSregs();
                    var cs = sregs.cs();
                    vcpu.setSregs(new dev.thaw.api.state.Sregs(
                            new dev.thaw.api.state.Segment(0, cs.limit(), 0, cs.type(), cs.present(), cs.dpl(),
                                    cs.db(), cs.s(), cs.l(), cs.g(), cs.avl(), cs.unusable()),
                            sregs.ds(), sregs.es(), sregs.fs(), sregs.gs(), sregs.ss(), sregs.tr(), sregs.ldt(),
                            sregs.gdt(), sregs.idt(), sregs.cr0(), sregs.cr2(), sregs.cr3(), sregs.cr4(), sregs.cr8(),
                            sregs.efer(), sregs.apicBase(), sregs.interruptBitmap()));
                    Regs regs = new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1000, 2);
                    vcpu.setRegs(regs);
                    assertEquals(regs, vcpu.getRegs());
                    assertTrue(vcpu.run());
                    KvmRun run = vcpu.kvmRun();
                    assertEquals(KvmConstants.KVM_EXIT_IO, run.exitReason(),
                            KvmConstants.exitReasonName(run.exitReason()));
                    assertEquals(KvmConstants.KVM_EXIT_IO_OUT, run.ioDirection());
                    assertEquals(0x10, run.ioPort());
                    assertEquals(1, run.ioSize());
                    assertEquals(1, run.ioCount());
                    assertEquals(0x42, run.ioData().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
                    assertTrue(vcpu.run());
                    assertEquals(KvmConstants.KVM_EXIT_HLT, run.exitReason(),
                            KvmConstants.exitReasonName(run.exitReason()));

                    List<MsrEntry> read = vcpu.getMsrs(msrs);
                    System.out.printf("KVM_GET_MSRS read %d of %d at once%n", read.size(), msrs.length);
                    run.setImmediateExit(true);
                    // KVM returns EINTR at once; exit_reason is not updated on that path.
                    assertFalse(vcpu.run(), "immediate_exit makes KVM_RUN return EINTR");
                    run.setImmediateExit(false);
                }
            }
        }
    }
}

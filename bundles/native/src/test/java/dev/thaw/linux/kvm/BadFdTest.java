package dev.thaw.linux.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.state.ClockData;
import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.DescriptorTable;
import dev.thaw.api.state.Fpu;
import dev.thaw.api.state.IoapicState;
import dev.thaw.api.state.LapicState;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.PicState;
import dev.thaw.api.state.PitChannelState;
import dev.thaw.api.state.PitState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.Xcr;
import dev.thaw.api.state.Xcrs;
import dev.thaw.api.state.Xsave;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Userfaultfd;
import dev.thaw.linux.internal.KvmRunLayout;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every ioctl wrapper, handed an fd that is not open, fails with an {@link ErrnoException} that names
 * its ioctl and EBADF: no crash, no hang, no other exception type (kvm-ioctls' test_faulty_vcpu_fd).
 */
class BadFdTest {

    private static final int BAD_FD = -1;

    private static void ebadf(String call, Executable e) {
        ErrnoException x = assertThrows(ErrnoException.class, e, call);
        assertEquals(call, x.call());
        assertEquals(Errno.EBADF, x.errno(), x.getMessage());
        assertTrue(x.getMessage().startsWith(call + " failed: EBADF (Bad file descriptor)"), x.getMessage());
    }

    @Test
    void kvmSystemIoctls() {
        Kvm kvm = new Kvm(BAD_FD);
        ebadf("KVM_GET_API_VERSION", kvm::apiVersion);
        ebadf("KVM_CHECK_EXTENSION", () -> kvm.checkExtension(KvmConstants.KVM_CAP_IRQCHIP));
        ebadf("KVM_GET_VCPU_MMAP_SIZE", kvm::vcpuMmapSize);
        ebadf("KVM_GET_SUPPORTED_CPUID", kvm::supportedCpuid);
        ebadf("KVM_GET_MSR_INDEX_LIST", kvm::msrIndexList);
        ebadf("KVM_GET_MSR_FEATURE_INDEX_LIST", kvm::featureMsrIndexList);
        ebadf("KVM_GET_MSRS", () -> kvm.featureMsrs(new long[] {0x10a}));
        ebadf("KVM_CREATE_VM", () -> kvm.createVm(0));
    }

    @Test
    void vmIoctls() {
        VmFd vm = new VmFd(BAD_FD);
        PicState pic = new PicState(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        PitChannelState channel = new PitChannelState(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ebadf("KVM_CHECK_EXTENSION", () -> vm.checkExtension(KvmConstants.KVM_CAP_XSAVE2));
        ebadf("KVM_SET_USER_MEMORY_REGION", () -> vm.setUserMemoryRegion(0, 0, 0, 4096, 0x1000));
        ebadf("KVM_SET_TSS_ADDR", () -> vm.setTssAddr(0xfffbd000L));
        ebadf("KVM_SET_IDENTITY_MAP_ADDR", () -> vm.setIdentityMapAddr(0xfffbc000L));
        ebadf("KVM_CREATE_IRQCHIP", vm::createIrqchip);
        ebadf("KVM_CREATE_PIT2", () -> vm.createPit2(0));
        ebadf("KVM_IRQ_LINE", () -> vm.irqLine(4, 1));
        ebadf("KVM_GET_IRQCHIP", () -> vm.getPic(KvmConstants.KVM_IRQCHIP_PIC_MASTER));
        ebadf("KVM_SET_IRQCHIP", () -> vm.setPic(KvmConstants.KVM_IRQCHIP_PIC_SLAVE, pic));
        ebadf("KVM_GET_IRQCHIP", vm::getIoapic);
        ebadf("KVM_SET_IRQCHIP", () -> vm.setIoapic(new IoapicState(0, 0, 0, 0, new long[IoapicState.PINS])));
        ebadf("KVM_GET_PIT2", vm::getPit2);
        ebadf("KVM_SET_PIT2", () -> vm.setPit2(new PitState(List.of(channel, channel, channel), 0)));
        ebadf("KVM_GET_CLOCK", vm::getClock);
        ebadf("KVM_SET_CLOCK", () -> vm.setClock(new ClockData(0, 0, 0, 0)));
        ebadf("KVM_CREATE_VCPU", () -> vm.createVcpu(0, 12288));
    }

    @Test
    void vcpuIoctls() {
        try (Arena arena = Arena.ofConfined()) {
            VcpuFd vcpu = new VcpuFd(BAD_FD, 0, arena.allocate(KvmRunLayout.LAYOUT.byteSize() + 4096, 4096));
            Segment seg = new Segment(0, 0xffff, 0, 3, 1, 0, 0, 1, 0, 0, 0, 0);
            DescriptorTable table = new DescriptorTable(0, 0xffff);
            Sregs sregs = new Sregs(seg, seg, seg, seg, seg, seg, seg, seg, table, table, 0, 0, 0, 0, 0, 0, 0, new long[4]);
            VcpuEvents events = new VcpuEvents(new VcpuEvents.ExceptionState(0, 0, 0, 0, 0),
                    new VcpuEvents.InterruptState(0, 0, 0, 0), new VcpuEvents.NmiState(0, 0, 0), 0, 0,
                    new VcpuEvents.SmiState(0, 0, 0, 0), 0, 0, 0);
            ebadf("KVM_RUN", vcpu::run);
            ebadf("KVM_GET_REGS", vcpu::getRegs);
            ebadf("KVM_SET_REGS", () -> vcpu.setRegs(new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)));
            ebadf("KVM_GET_SREGS", vcpu::getSregs);
            ebadf("KVM_SET_SREGS", () -> vcpu.setSregs(sregs));
            ebadf("KVM_GET_FPU", vcpu::getFpu);
            ebadf("KVM_SET_FPU", () -> vcpu.setFpu(new Fpu(new byte[128], 0x37f, 0, 0, 0, 0, 0, new byte[256], 0x1f80)));
            ebadf("KVM_GET_XSAVE", vcpu::getXsave);
            ebadf("KVM_GET_XSAVE2", () -> vcpu.getXsave2(4096));
            ebadf("KVM_SET_XSAVE", () -> vcpu.setXsave(new Xsave(new byte[4096])));
            ebadf("KVM_GET_XCRS", vcpu::getXcrs);
            ebadf("KVM_SET_XCRS", () -> vcpu.setXcrs(new Xcrs(0, List.of(new Xcr(0, 1)))));
            ebadf("KVM_GET_DEBUGREGS", vcpu::getDebugRegs);
            ebadf("KVM_SET_DEBUGREGS", () -> vcpu.setDebugRegs(new DebugRegs(0, 0, 0, 0, 0xffff0ff0L, 0x400, 0)));
            ebadf("KVM_GET_LAPIC", vcpu::getLapic);
            ebadf("KVM_SET_LAPIC", () -> vcpu.setLapic(new LapicState(new byte[LapicState.REG_BYTES])));
            ebadf("KVM_GET_MSRS", () -> vcpu.getMsrs(new long[] {0x10}));
            ebadf("KVM_SET_MSRS", () -> vcpu.setMsrs(List.of(new MsrEntry(0x10, 0))));
            ebadf("KVM_GET_VCPU_EVENTS", vcpu::getVcpuEvents);
            ebadf("KVM_SET_VCPU_EVENTS", () -> vcpu.setVcpuEvents(events));
            ebadf("KVM_GET_MP_STATE", vcpu::getMpState);
            ebadf("KVM_SET_MP_STATE", () -> vcpu.setMpState(MpState.RUNNABLE));
            ebadf("KVM_GET_CPUID2", () -> vcpu.getCpuid2(8));
            ebadf("KVM_SET_CPUID2", () -> vcpu.setCpuid2(List.of(new CpuidEntry(0, 0, 0, 1, 0, 0, 0))));
            ebadf("KVM_SET_SIGNAL_MASK", () -> vcpu.setSignalMask(0));
            ebadf("KVM_GET_TSC_KHZ", vcpu::getTscKhz);
            ebadf("KVM_SET_TSC_KHZ", () -> vcpu.setTscKhz(2_000_000));
        }
    }

    @Test
    void userfaultfdIoctls() {
        Userfaultfd uffd = Userfaultfd.wrap(BAD_FD);
        ebadf("UFFDIO_API", () -> uffd.api(0));
        ebadf("UFFDIO_REGISTER", () -> uffd.register(0x10000, 4096, Userfaultfd.UFFDIO_REGISTER_MODE_MISSING));
        ebadf("UFFDIO_UNREGISTER", () -> uffd.unregister(0x10000, 4096));
        ebadf("UFFDIO_WAKE", () -> uffd.wake(0x10000, 4096));
        ebadf("UFFDIO_COPY", () -> uffd.copy(0x10000, 0x20000, 4096, 0));
        ebadf("UFFDIO_ZEROPAGE", () -> uffd.zeropage(0x10000, 4096, 0));
        ebadf("UFFDIO_CONTINUE", () -> uffd.continuePages(0x10000, 4096, 0));
        ebadf("UFFDIO_WRITEPROTECT", () -> uffd.writeProtect(0x10000, 4096, Userfaultfd.UFFDIO_WRITEPROTECT_MODE_WP));
        ebadf("read", uffd::read);
    }

    @Test
    void valuesThatDoNotFitTheirCFieldAreRefusedBeforeAnyIoctl() {
        VmFd vm = new VmFd(BAD_FD);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> vm.setPic(0, new PicState(256, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        assertTrue(e.getMessage().contains("last_irr"), e.getMessage());
    }
}

package dev.thaw.linux.kvm;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.DebugRegs;
import dev.thaw.api.state.Fpu;
import dev.thaw.api.state.LapicState;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Sregs;
import dev.thaw.api.state.VcpuEvents;
import dev.thaw.api.state.Xcrs;
import dev.thaw.api.state.Xsave;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.internal.Ioctls;
import dev.thaw.linux.internal.KvmCpuid2;
import dev.thaw.linux.internal.KvmDebugregs;
import dev.thaw.linux.internal.KvmFpu;
import dev.thaw.linux.internal.KvmLapicState;
import dev.thaw.linux.internal.KvmMpState;
import dev.thaw.linux.internal.KvmMsrs;
import dev.thaw.linux.internal.KvmRegs;
import dev.thaw.linux.internal.KvmSignalMask;
import dev.thaw.linux.internal.KvmSregs;
import dev.thaw.linux.internal.KvmVcpuEvents;
import dev.thaw.linux.internal.KvmXcrs;
import dev.thaw.linux.internal.KvmXsave;
import dev.thaw.linux.internal.OwnedFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A vCPU fd from KVM_CREATE_VCPU and its mmaped {@link KvmRun} area. KVM serializes the ioctls of one
 * vCPU: a state ioctl from another thread waits until a running KVM_RUN returns.
 */
public final class VcpuFd implements AutoCloseable {

    private final OwnedFd fd;
    private final int id;
    private final Mapping runMapping;
    private final KvmRun run;

    VcpuFd(int fd, int id, Mapping runMapping) {
        this.fd = new OwnedFd(fd);
        this.id = id;
        this.runMapping = runMapping;
        this.run = new KvmRun(runMapping.segment());
    }

    /** For tests: a handle on {@code fd} with {@code run} standing in for the mapping. */
    VcpuFd(int fd, int id, MemorySegment run) {
        this.fd = new OwnedFd(fd);
        this.id = id;
        this.runMapping = null;
        this.run = new KvmRun(run);
    }

    public int fd() {
        return fd.get();
    }

    /** The id passed to KVM_CREATE_VCPU (the initial APIC ID). */
    public int id() {
        return id;
    }

    public KvmRun kvmRun() {
        return run;
    }

    /**
     * KVM_RUN. Returns {@code true} when the vCPU exited with {@link KvmRun#exitReason()} set, and
     * {@code false} when KVM_RUN returned EINTR (a signal unblocked by KVM_SET_SIGNAL_MASK arrived, or
     * {@code immediate_exit} was set); other errors throw.
     */
    public boolean run() {
        int r = Libc.ioctlOrErrno(fd.get(), Ioctls.KVM_RUN, 0);
        if (r >= 0) {
            return true;
        }
        if (-r == Errno.EINTR) {
            return false;
        }
        throw new ErrnoException("KVM_RUN", -r);
    }

    /** KVM_GET_REGS. */
    public Regs getRegs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmRegs.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_REGS, s, "KVM_GET_REGS");
            return KvmRegs.read(s);
        }
    }

    /** KVM_SET_REGS. */
    public void setRegs(Regs regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmRegs.LAYOUT);
            KvmRegs.write(s, regs);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_REGS, s, "KVM_SET_REGS");
        }
    }

    /** KVM_GET_SREGS. */
    public Sregs getSregs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmSregs.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_SREGS, s, "KVM_GET_SREGS");
            return KvmSregs.read(s);
        }
    }

    /** KVM_SET_SREGS. */
    public void setSregs(Sregs sregs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmSregs.LAYOUT);
            KvmSregs.write(s, sregs);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_SREGS, s, "KVM_SET_SREGS");
        }
    }

    /** KVM_GET_FPU. */
    public Fpu getFpu() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmFpu.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_FPU, s, "KVM_GET_FPU");
            return KvmFpu.read(s);
        }
    }

    /** KVM_SET_FPU. */
    public void setFpu(Fpu fpu) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmFpu.LAYOUT);
            KvmFpu.write(s, fpu);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_FPU, s, "KVM_SET_FPU");
        }
    }

    /** KVM_GET_XSAVE (KVM_CAP_XSAVE): the first 4096 bytes of the XSAVE area. */
    public Xsave getXsave() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmXsave.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_XSAVE, s, "KVM_GET_XSAVE");
            return new Xsave(s.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * KVM_GET_XSAVE2 (KVM_CAP_XSAVE2): the whole XSAVE area; {@code size} is what
     * {@code KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)} on the VM fd reported (at least 4096).
     */
    public Xsave getXsave2(int size) {
        if (size < KvmXsave.LAYOUT.byteSize()) {
            throw new IllegalArgumentException("XSAVE2 size " + size + " is below " + KvmXsave.LAYOUT.byteSize());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size, 8);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_XSAVE2, s, "KVM_GET_XSAVE2");
            return new Xsave(s.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** KVM_SET_XSAVE (KVM_CAP_XSAVE): takes the region as KVM_GET_XSAVE or KVM_GET_XSAVE2 returned it. */
    public void setXsave(Xsave xsave) {
        byte[] region = xsave.region();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(region.length, 8);
            MemorySegment.copy(region, 0, s, ValueLayout.JAVA_BYTE, 0, region.length);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_XSAVE, s, "KVM_SET_XSAVE");
        }
    }

    /** KVM_GET_XCRS (KVM_CAP_XCRS). */
    public Xcrs getXcrs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmXcrs.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_XCRS, s, "KVM_GET_XCRS");
            return KvmXcrs.read(s);
        }
    }

    /** KVM_SET_XCRS (KVM_CAP_XCRS). */
    public void setXcrs(Xcrs xcrs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmXcrs.LAYOUT);
            KvmXcrs.write(s, xcrs);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_XCRS, s, "KVM_SET_XCRS");
        }
    }

    /** KVM_GET_DEBUGREGS (KVM_CAP_DEBUGREGS). */
    public DebugRegs getDebugRegs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmDebugregs.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_DEBUGREGS, s, "KVM_GET_DEBUGREGS");
            return KvmDebugregs.read(s);
        }
    }

    /** KVM_SET_DEBUGREGS (KVM_CAP_DEBUGREGS). */
    public void setDebugRegs(DebugRegs regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmDebugregs.LAYOUT);
            KvmDebugregs.write(s, regs);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_DEBUGREGS, s, "KVM_SET_DEBUGREGS");
        }
    }

    /** KVM_GET_LAPIC (KVM_CAP_IRQCHIP, in-kernel local APIC). */
    public LapicState getLapic() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmLapicState.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_LAPIC, s, "KVM_GET_LAPIC");
            return KvmLapicState.read(s);
        }
    }

    /** KVM_SET_LAPIC (KVM_CAP_IRQCHIP). */
    public void setLapic(LapicState lapic) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmLapicState.LAYOUT);
            KvmLapicState.write(s, lapic);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_LAPIC, s, "KVM_SET_LAPIC");
        }
    }

    /**
     * KVM_GET_MSRS of {@code indices}. KVM stops at the first MSR it cannot read: the result is the
     * prefix of {@code indices} it read, so a shorter result names the failing MSR by its position.
     */
    public List<MsrEntry> getMsrs(long[] indices) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmMsrs.ofIndices(arena, indices);
            int n = Libc.ioctl(fd.get(), Ioctls.KVM_GET_MSRS, s, "KVM_GET_MSRS");
            return KvmMsrs.read(s, n);
        }
    }

    /** KVM_SET_MSRS; returns how many entries KVM set, stopping at the first it refused. */
    public int setMsrs(List<MsrEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmMsrs.of(arena, entries);
            return Libc.ioctl(fd.get(), Ioctls.KVM_SET_MSRS, s, "KVM_SET_MSRS");
        }
    }

    /** KVM_GET_VCPU_EVENTS (KVM_CAP_VCPU_EVENTS). */
    public VcpuEvents getVcpuEvents() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmVcpuEvents.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_VCPU_EVENTS, s, "KVM_GET_VCPU_EVENTS");
            return KvmVcpuEvents.read(s);
        }
    }

    /** KVM_SET_VCPU_EVENTS (KVM_CAP_VCPU_EVENTS). */
    public void setVcpuEvents(VcpuEvents events) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmVcpuEvents.LAYOUT);
            KvmVcpuEvents.write(s, events);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_VCPU_EVENTS, s, "KVM_SET_VCPU_EVENTS");
        }
    }

    /** KVM_GET_MP_STATE (KVM_CAP_MP_STATE). */
    public MpState getMpState() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmMpState.LAYOUT);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_MP_STATE, s, "KVM_GET_MP_STATE");
            return KvmMpState.read(s);
        }
    }

    /** KVM_SET_MP_STATE (KVM_CAP_MP_STATE). */
    public void setMpState(MpState state) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmMpState.LAYOUT);
            KvmMpState.write(s, state);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_MP_STATE, s, "KVM_SET_MP_STATE");
        }
    }

    /** KVM_GET_CPUID2 (KVM_CAP_EXT_CPUID): the CPUID set on this vCPU; at most {@code maxEntries}. */
    public List<CpuidEntry> getCpuid2(int maxEntries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmCpuid2.allocate(arena, maxEntries);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_CPUID2, s, "KVM_GET_CPUID2");
            return KvmCpuid2.read(s);
        }
    }

    /** KVM_SET_CPUID2 (KVM_CAP_EXT_CPUID). After the first KVM_RUN only an identical CPUID is accepted. */
    public void setCpuid2(List<CpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmCpuid2.write(arena, entries);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_CPUID2, s, "KVM_SET_CPUID2");
        }
    }

    /** KVM_GET_TSC_KHZ (KVM_CAP_GET_TSC_KHZ): the rate of this vCPU's TSC as the guest sees it, in kHz. */
    public long getTscKhz() {
        return Integer.toUnsignedLong(Libc.ioctl(fd.get(), Ioctls.KVM_GET_TSC_KHZ, 0, "KVM_GET_TSC_KHZ"));
    }

    /**
     * KVM_SET_TSC_KHZ (KVM_CAP_TSC_CONTROL): runs this vCPU's TSC at {@code khz} as the guest sees it. KVM
     * refuses (EINVAL) a rate it cannot scale to on this CPU.
     */
    public void setTscKhz(long khz) {
        if (khz <= 0 || khz > 0xffff_ffffL) {
            throw new IllegalArgumentException("TSC rate " + khz + " kHz does not fit KVM_SET_TSC_KHZ's __u32");
        }
        Libc.ioctl(fd.get(), Ioctls.KVM_SET_TSC_KHZ, khz, "KVM_SET_TSC_KHZ");
    }

    /**
     * KVM_SET_SIGNAL_MASK: the signal mask in force while this vCPU is inside KVM_RUN ({@code mask}: bit
     * n-1 blocks signal n). A signal blocked outside KVM_RUN but not in this mask makes KVM_RUN return
     * EINTR and stays pending.
     */
    public void setSignalMask(long mask) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmSignalMask.allocate(arena, mask);
            Libc.ioctl(fd.get(), Ioctls.KVM_SET_SIGNAL_MASK, s, "KVM_SET_SIGNAL_MASK");
        }
    }

    /** Unmaps kvm_run and closes the fd. Idempotent. Never while a thread is inside {@link #run()}. */
    @Override
    public synchronized void close() {
        try {
            if (runMapping != null) {
                runMapping.close();
            }
        } finally {
            fd.close();
        }
    }
}

package dev.thaw.linux.internal;

/**
 * Every ioctl request number Thaw issues, named exactly as the kernel's macros and computed the way
 * {@code asm-generic/ioctl.h} does. The layout test compares each with the C macro.
 */
public final class Ioctls {

    private static final long IOC_NONE = 0;
    private static final long IOC_WRITE = 1;
    private static final long IOC_READ = 2;

    /** {@code KVMIO}. */
    public static final int KVMIO = 0xAE;
    /** {@code UFFDIO}. */
    public static final int UFFDIO = 0xAA;

    // /dev/kvm (system) ioctls
    public static final long KVM_GET_API_VERSION = io(KVMIO, 0x00);
    public static final long KVM_CREATE_VM = io(KVMIO, 0x01);
    public static final long KVM_GET_MSR_INDEX_LIST = iowr(KVMIO, 0x02, KvmMsrList.LAYOUT.byteSize());
    public static final long KVM_CHECK_EXTENSION = io(KVMIO, 0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(KVMIO, 0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = iowr(KVMIO, 0x05, KvmCpuid2.LAYOUT.byteSize());
    public static final long KVM_GET_MSR_FEATURE_INDEX_LIST = iowr(KVMIO, 0x0a, KvmMsrList.LAYOUT.byteSize());

    // VM ioctls
    public static final long KVM_CREATE_VCPU = io(KVMIO, 0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = iow(KVMIO, 0x46, KvmUserspaceMemoryRegion.LAYOUT.byteSize());
    public static final long KVM_SET_TSS_ADDR = io(KVMIO, 0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(KVMIO, 0x48, Long.BYTES);
    public static final long KVM_CREATE_IRQCHIP = io(KVMIO, 0x60);
    public static final long KVM_IRQ_LINE = iow(KVMIO, 0x61, KvmIrqLevel.LAYOUT.byteSize());
    public static final long KVM_GET_IRQCHIP = iowr(KVMIO, 0x62, KvmIrqchip.LAYOUT.byteSize());
    public static final long KVM_SET_IRQCHIP = ior(KVMIO, 0x63, KvmIrqchip.LAYOUT.byteSize());
    public static final long KVM_CREATE_PIT2 = iow(KVMIO, 0x77, KvmPitConfig.LAYOUT.byteSize());
    public static final long KVM_SET_CLOCK = iow(KVMIO, 0x7b, KvmClockData.LAYOUT.byteSize());
    public static final long KVM_GET_CLOCK = ior(KVMIO, 0x7c, KvmClockData.LAYOUT.byteSize());
    public static final long KVM_GET_PIT2 = ior(KVMIO, 0x9f, KvmPitState2.LAYOUT.byteSize());
    public static final long KVM_SET_PIT2 = iow(KVMIO, 0xa0, KvmPitState2.LAYOUT.byteSize());

    // vCPU ioctls
    public static final long KVM_RUN = io(KVMIO, 0x80);
    public static final long KVM_GET_REGS = ior(KVMIO, 0x81, KvmRegs.LAYOUT.byteSize());
    public static final long KVM_SET_REGS = iow(KVMIO, 0x82, KvmRegs.LAYOUT.byteSize());
    public static final long KVM_GET_SREGS = ior(KVMIO, 0x83, KvmSregs.LAYOUT.byteSize());
    public static final long KVM_SET_SREGS = iow(KVMIO, 0x84, KvmSregs.LAYOUT.byteSize());
    public static final long KVM_GET_MSRS = iowr(KVMIO, 0x88, KvmMsrs.LAYOUT.byteSize());
    public static final long KVM_SET_MSRS = iow(KVMIO, 0x89, KvmMsrs.LAYOUT.byteSize());
    public static final long KVM_SET_SIGNAL_MASK = iow(KVMIO, 0x8b, KvmSignalMask.LAYOUT.byteSize());
    public static final long KVM_GET_FPU = ior(KVMIO, 0x8c, KvmFpu.LAYOUT.byteSize());
    public static final long KVM_SET_FPU = iow(KVMIO, 0x8d, KvmFpu.LAYOUT.byteSize());
    public static final long KVM_GET_LAPIC = ior(KVMIO, 0x8e, KvmLapicState.LAYOUT.byteSize());
    public static final long KVM_SET_LAPIC = iow(KVMIO, 0x8f, KvmLapicState.LAYOUT.byteSize());
    public static final long KVM_SET_CPUID2 = iow(KVMIO, 0x90, KvmCpuid2.LAYOUT.byteSize());
    public static final long KVM_GET_CPUID2 = iowr(KVMIO, 0x91, KvmCpuid2.LAYOUT.byteSize());
    public static final long KVM_GET_MP_STATE = ior(KVMIO, 0x98, KvmMpState.LAYOUT.byteSize());
    public static final long KVM_SET_MP_STATE = iow(KVMIO, 0x99, KvmMpState.LAYOUT.byteSize());
    public static final long KVM_GET_VCPU_EVENTS = ior(KVMIO, 0x9f, KvmVcpuEvents.LAYOUT.byteSize());
    public static final long KVM_SET_VCPU_EVENTS = iow(KVMIO, 0xa0, KvmVcpuEvents.LAYOUT.byteSize());
    public static final long KVM_GET_DEBUGREGS = ior(KVMIO, 0xa1, KvmDebugregs.LAYOUT.byteSize());
    public static final long KVM_SET_DEBUGREGS = iow(KVMIO, 0xa2, KvmDebugregs.LAYOUT.byteSize());
    /** The rate in kHz is the ioctl's argument itself, not a pointer (KVM_CAP_TSC_CONTROL). */
    public static final long KVM_SET_TSC_KHZ = io(KVMIO, 0xa2);
    /** Returns the rate in kHz (KVM_CAP_GET_TSC_KHZ). */
    public static final long KVM_GET_TSC_KHZ = io(KVMIO, 0xa3);
    public static final long KVM_GET_XSAVE = ior(KVMIO, 0xa4, KvmXsave.LAYOUT.byteSize());
    public static final long KVM_SET_XSAVE = iow(KVMIO, 0xa5, KvmXsave.LAYOUT.byteSize());
    public static final long KVM_GET_XCRS = ior(KVMIO, 0xa6, KvmXcrs.LAYOUT.byteSize());
    public static final long KVM_SET_XCRS = iow(KVMIO, 0xa7, KvmXcrs.LAYOUT.byteSize());
    public static final long KVM_GET_XSAVE2 = ior(KVMIO, 0xcf, KvmXsave.LAYOUT.byteSize());

    // userfaultfd ioctls
    public static final long UFFDIO_API = iowr(UFFDIO, 0x3F, UffdioApi.LAYOUT.byteSize());
    public static final long UFFDIO_REGISTER = iowr(UFFDIO, 0x00, UffdioRegister.LAYOUT.byteSize());
    public static final long UFFDIO_UNREGISTER = ior(UFFDIO, 0x01, UffdioRange.LAYOUT.byteSize());
    public static final long UFFDIO_WAKE = ior(UFFDIO, 0x02, UffdioRange.LAYOUT.byteSize());
    public static final long UFFDIO_COPY = iowr(UFFDIO, 0x03, UffdioCopy.LAYOUT.byteSize());
    public static final long UFFDIO_ZEROPAGE = iowr(UFFDIO, 0x04, UffdioZeropage.LAYOUT.byteSize());
    public static final long UFFDIO_WRITEPROTECT = iowr(UFFDIO, 0x06, UffdioWriteprotect.LAYOUT.byteSize());
    public static final long UFFDIO_CONTINUE = iowr(UFFDIO, 0x07, UffdioContinue.LAYOUT.byteSize());
    public static final long UFFDIO_MOVE = iowr(UFFDIO, 0x05, UffdioMove.LAYOUT.byteSize());

    private Ioctls() {}

    private static long ioc(long dir, long type, long nr, long size) {
        if (size >= 1 << 14) {
            throw new IllegalArgumentException("ioctl argument size " + size + " exceeds _IOC_SIZEBITS");
        }
        return dir << 30 | size << 16 | type << 8 | nr;
    }

    private static long io(int type, int nr) {
        return ioc(IOC_NONE, type, nr, 0);
    }

    private static long ior(int type, int nr, long size) {
        return ioc(IOC_READ, type, nr, size);
    }

    private static long iow(int type, int nr, long size) {
        return ioc(IOC_WRITE, type, nr, size);
    }

    private static long iowr(int type, int nr, long size) {
        return ioc(IOC_READ | IOC_WRITE, type, nr, size);
    }
}

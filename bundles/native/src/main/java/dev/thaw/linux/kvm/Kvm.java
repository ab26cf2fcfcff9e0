package dev.thaw.linux.kvm;

import dev.thaw.api.state.CpuidEntry;
import dev.thaw.api.state.MsrEntry;
import dev.thaw.linux.Libc;
import dev.thaw.linux.internal.Ioctls;
import dev.thaw.linux.internal.KvmCpuid2;
import dev.thaw.linux.internal.KvmMsrList;
import dev.thaw.linux.internal.KvmMsrs;
import dev.thaw.linux.internal.OwnedFd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** The KVM system fd ({@code /dev/kvm}). Thread-safe: every call is one independent ioctl. */
public final class Kvm implements AutoCloseable {

    /** The kernel's limit on CPUID entries (KVM_MAX_CPUID_ENTRIES in arch/x86/kvm). */
    public static final int MAX_CPUID_ENTRIES = 256;
    /** Room for MSR index lists; KVM reports tens to a few hundred. */
    public static final int MAX_MSR_INDICES = 1024;

    private final OwnedFd fd;

    Kvm(int fd) {
        this.fd = new OwnedFd(fd);
    }

    /** Opens {@code /dev/kvm} read-write, close-on-exec. */
    public static Kvm open() {
        return open("/dev/kvm");
    }

    public static Kvm open(String path) {
        return new Kvm(Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC));
    }

    public int fd() {
        return fd.get();
    }

    /** KVM_GET_API_VERSION: 12 on every kernel since 2.6.22. */
    public int apiVersion() {
        return Libc.ioctl(fd.get(), Ioctls.KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION");
    }

    /** KVM_CHECK_EXTENSION on the system fd: 0 when {@code capability} is absent, else a value (often 1). */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd.get(), Ioctls.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    /** KVM_GET_VCPU_MMAP_SIZE: bytes to mmap from a vCPU fd (the kvm_run page and what follows it). */
    public int vcpuMmapSize() {
        return Libc.ioctl(fd.get(), Ioctls.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /** KVM_GET_SUPPORTED_CPUID (KVM_CAP_EXT_CPUID): the CPUID leaves KVM can expose. */
    public List<CpuidEntry> supportedCpuid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmCpuid2.allocate(arena, MAX_CPUID_ENTRIES);
            Libc.ioctl(fd.get(), Ioctls.KVM_GET_SUPPORTED_CPUID, s, "KVM_GET_SUPPORTED_CPUID");
            return KvmCpuid2.read(s);
        }
    }

    /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and emulates (not all can be read on every vCPU). */
    public long[] msrIndexList() {
        return msrList(Ioctls.KVM_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST");
    }

    /** KVM_GET_MSR_FEATURE_INDEX_LIST (KVM_CAP_GET_MSR_FEATURES): MSRs describing host features. */
    public long[] featureMsrIndexList() {
        return msrList(Ioctls.KVM_GET_MSR_FEATURE_INDEX_LIST, "KVM_GET_MSR_FEATURE_INDEX_LIST");
    }

    /**
     * KVM_GET_MSRS on the system fd (KVM_CAP_GET_MSR_FEATURES): values of feature MSRs. KVM stops at the
     * first MSR it cannot read; the result holds the entries read, a prefix of {@code indices}.
     */
    public List<MsrEntry> featureMsrs(long[] indices) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmMsrs.ofIndices(arena, indices);
            int n = Libc.ioctl(fd.get(), Ioctls.KVM_GET_MSRS, s, "KVM_GET_MSRS");
            return KvmMsrs.read(s, n);
        }
    }

    /** KVM_CREATE_VM of machine {@code type} (0 for the default x86 VM). */
    public VmFd createVm(long type) {
        int vm = Libc.ioctl(fd.get(), Ioctls.KVM_CREATE_VM, type, "KVM_CREATE_VM");
        return new VmFd(vm);
    }

    /** Closes {@code /dev/kvm}; VMs created from it stay valid. Idempotent. */
    @Override
    public void close() {
        fd.close();
    }

    private long[] msrList(long request, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = KvmMsrList.allocate(arena, MAX_MSR_INDICES);
            Libc.ioctl(fd.get(), request, s, name);
            return KvmMsrList.indices(s);
        }
    }
}

package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.api.runtime.VmExit;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.KvmRun;
import dev.thaw.linux.kvm.VcpuFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * What one vCPU does with a KVM_RUN exit: port I/O and MMIO go to the {@link IoHandler} (data moved
 * through the kvm_run page); an exit that ends the VM, or a failing handler, becomes a {@link VmExit}
 * with a one-line reason and a register dump, reported to {@link VcpuThreads#fail}.
 */
final class ExitDispatcher {

    private final VcpuThreads threads;
    private final int index;
    private final VcpuFd fd;
    private final KvmRun run;
    private final IoHandler io;

    ExitDispatcher(VcpuThreads threads, int index, VcpuFd fd, IoHandler io) {
        this.threads = threads;
        this.index = index;
        this.fd = fd;
        this.run = fd.kvmRun();
        this.io = io;
    }

    /** Reports a failure of the run loop itself (an unexpected exception). */
    void loopFailed(Throwable t) {
        threads.fail(new VmExit(VmExit.Kind.RUNTIME_ERROR, index, "vCPU " + index + ": " + t.getMessage(),
                RegisterDump.of(fd), t));
    }

    /** Handles the exit KVM_RUN just returned; false when it ends the VM. */
    boolean handle() {
        int reason = run.exitReason();
        return switch (reason) {
            case KvmConstants.KVM_EXIT_IO -> handleIo();
            case KvmConstants.KVM_EXIT_MMIO -> handleMmio();
            case KvmConstants.KVM_EXIT_INTR -> true;
            case KvmConstants.KVM_EXIT_HLT -> fatal(VmExit.Kind.HALTED,
                    "guest halted (KVM_EXIT_HLT) and nothing will wake it");
            case KvmConstants.KVM_EXIT_SHUTDOWN -> fatal(VmExit.Kind.SHUTDOWN,
                    "guest shut down (KVM_EXIT_SHUTDOWN, e.g. a triple fault)");
            case KvmConstants.KVM_EXIT_INTERNAL_ERROR -> fatal(VmExit.Kind.GUEST_ERROR,
                    "KVM internal error (KVM_EXIT_INTERNAL_ERROR), suberror " + run.internalSuberror() + " ("
                            + internalErrorName(run.internalSuberror()) + "), data " + hex(run.internalData()));
            case KvmConstants.KVM_EXIT_FAIL_ENTRY -> fatal(VmExit.Kind.GUEST_ERROR,
                    "entry to the guest failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x"
                            + Long.toHexString(run.failEntryReason()) + " on host CPU " + run.failEntryCpu());
            case KvmConstants.KVM_EXIT_SYSTEM_EVENT -> fatal(VmExit.Kind.SHUTDOWN,
                    "guest system event (KVM_EXIT_SYSTEM_EVENT) " + systemEventName(run.systemEventType())
                            + ", data " + hex(run.systemEventData()));
            default -> fatal(VmExit.Kind.GUEST_ERROR, "unhandled exit " + KvmConstants.exitReasonName(reason)
                    + (reason == KvmConstants.KVM_EXIT_UNKNOWN
                            ? ", hardware reason 0x" + Long.toHexString(run.hardwareExitReason()) : ""));
        };
    }

    private boolean handleIo() {
        boolean out = run.ioDirection() == KvmConstants.KVM_EXIT_IO_OUT;
        int size = run.ioSize();
        int port = run.ioPort();
        int count = run.ioCount();
        MemorySegment data = run.ioData();
        try {
            for (int k = 0; k < count; k++) {
                long offset = (long) k * size;
                if (out) {
                    io.portWrite(index, port, size, load(data, offset, size));
                } else {
                    store(data, offset, size, io.portRead(index, port, size));
                }
            }
            return true;
        } catch (RuntimeException | Error e) {
            return handlerFailed(e, (out ? "out to" : "in from") + " port 0x" + Integer.toHexString(port)
                    + " (size " + size + (count > 1 ? ", count " + count : "") + ")");
        }
    }

    private boolean handleMmio() {
        long address = run.mmioPhysAddr();
        int length = run.mmioLen();
        boolean write = run.mmioIsWrite();
        MemorySegment data = run.mmioData();
        try {
            if (write) {
                io.mmioWrite(index, address, length, load(data, 0, length));
            } else {
                store(data, 0, length, io.mmioRead(index, address, length));
            }
            return true;
        } catch (RuntimeException | Error e) {
            return handlerFailed(e, "MMIO " + (write ? "write to" : "read from") + " 0x" + Long.toHexString(address)
                    + " (size " + length + ")");
        }
    }

    private boolean handlerFailed(Throwable e, String access) {
        threads.fail(new VmExit(VmExit.Kind.IO_HANDLER_FAILED, index,
                "vCPU " + index + ": I/O handler failed on " + access + ": " + e, RegisterDump.of(fd), e));
        return false;
    }

    private boolean fatal(VmExit.Kind kind, String reason) {
        threads.fail(new VmExit(kind, index, "vCPU " + index + ": " + reason, RegisterDump.of(fd), null));
        return false;
    }

    /** {@code size} bytes little-endian at {@code offset}, zero-extended. */
    private static long load(MemorySegment data, long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (data.get(ValueLayout.JAVA_BYTE, offset + i) & 0xffL) << (8 * i);
        }
        return value;
    }

    private static void store(MemorySegment data, long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            data.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (value >>> (8 * i)));
        }
    }

    private static String internalErrorName(long suberror) {
        return switch ((int) suberror) {
            case KvmConstants.KVM_INTERNAL_ERROR_EMULATION -> "emulation failure";
            case KvmConstants.KVM_INTERNAL_ERROR_SIMUL_EX -> "exception while delivering an exception";
            case KvmConstants.KVM_INTERNAL_ERROR_DELIVERY_EV -> "exit while delivering an event";
            case KvmConstants.KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON -> "unexpected hardware exit reason";
            default -> "unknown";
        };
    }

    private static String systemEventName(long type) {
        return switch ((int) type) {
            case KvmConstants.KVM_SYSTEM_EVENT_SHUTDOWN -> "SHUTDOWN";
            case KvmConstants.KVM_SYSTEM_EVENT_RESET -> "RESET";
            case KvmConstants.KVM_SYSTEM_EVENT_CRASH -> "CRASH";
            default -> "type " + type;
        };
    }

    private static String hex(long[] words) {
        return Arrays.stream(words).mapToObj(w -> "0x" + Long.toHexString(w)).toList().toString();
    }
}

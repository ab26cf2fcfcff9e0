package dev.thaw.kvm.impl;

import dev.thaw.kvm.IoHandler;
import dev.thaw.kvm.VmExit;
import dev.thaw.linux.Libc;
import dev.thaw.linux.kvm.KvmConstants;
import dev.thaw.linux.kvm.KvmRun;
import dev.thaw.linux.kvm.VcpuFd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * One vCPU's thread: KVM_RUN in a loop, exits dispatched to the {@link IoHandler}, and the kick
 * protocol that lets {@link KvmVm} pause and stop it.
 *
 * <p>Kicks: the thread blocks {@link KvmVm#KICK_SIGNAL} for itself and gives KVM a signal mask without
 * it (KVM_SET_SIGNAL_MASK), so the signal can only be taken inside KVM_RUN, where it makes KVM_RUN
 * return EINTR. Sent while the thread is outside KVM_RUN, it stays pending and ends the next KVM_RUN at
 * once, so a kick racing with entry is never lost. After an EINTR the pending signal is consumed with
 * sigtimedwait, and the loop reads the VM's control word (written before the kick) to learn why.
 */
final class VcpuRunner implements Runnable {

    private static final long KICK_BIT = Libc.sigbit(KvmVm.KICK_SIGNAL);

    private final KvmVm vm;
    private final KvmVcpu vcpu;
    private final VcpuFd fd;
    private final KvmRun run;
    private final IoHandler io;
    private final CountDownLatch ready;
    private final Thread thread;

    /** Kernel thread id, for tgkill; 0 until the thread is ready. */
    private volatile int tid;
    /** Guarded by the VM's lock. */
    boolean parked;
    /** Guarded by the VM's lock. */
    boolean ended;

    VcpuRunner(KvmVm vm, KvmVcpu vcpu, IoHandler io, CountDownLatch ready) {
        this.vm = vm;
        this.vcpu = vcpu;
        this.fd = vcpu.fd();
        this.run = fd.kvmRun();
        this.io = io;
        this.ready = ready;
        this.thread = Thread.ofPlatform().name("vcpu-" + vm.name() + "-" + vcpu.index()).daemon(true).unstarted(this);
    }

    Thread thread() {
        return thread;
    }

    int tid() {
        return tid;
    }

    int index() {
        return vcpu.index();
    }

    @Override
    public void run() {
        try {
            try {
                long previous = Libc.pthreadSigmask(Libc.SIG_BLOCK, KICK_BIT);
                fd.setSignalMask(previous & ~KICK_BIT);
                tid = Libc.gettid();
            } finally {
                ready.countDown();
            }
            loop();
        } catch (Throwable t) {
            vm.fail(new VmExit(VmExit.Kind.KVM_ERROR, index(), "vCPU " + index() + ": " + t.getMessage(),
                    RegisterDump.of(fd), t));
        } finally {
            vm.runnerEnded(this);
        }
    }

    private void loop() {
        while (true) {
            if (vm.control() != KvmVm.Control.RUN) {
                if (!completePendingExit() || !vm.park(this)) {
                    return;
                }
                drainKicks();
                continue;
            }
            if (!fd.run()) {
                // EINTR: a kick (or another signal); the control word says what to do.
                drainKicks();
                continue;
            }
            if (!handleExit()) {
                return;
            }
        }
    }

    /**
     * Brings the vCPU to a consistent point before it parks: KVM completes an I/O or MMIO exit (stores
     * the data of an {@code in}, advances RIP) only on the next KVM_RUN. With immediate_exit set, that
     * KVM_RUN completes it and returns EINTR without entering the guest. String I/O longer than one data
     * page exits again instead; those exits are handled and the loop goes on until EINTR.
     *
     * @return false when an exit on the way ended the VM
     */
    private boolean completePendingExit() {
        run.setImmediateExit(true);
        try {
            while (fd.run()) {
                if (!handleExit()) {
                    return false;
                }
            }
            return true;
        } finally {
            run.setImmediateExit(false);
        }
    }

    private static void drainKicks() {
        while (Libc.sigtimedwait(KICK_BIT, 0) != 0) {
            // Standard signals do not queue: one pending kick at most, taken here.
        }
    }

    /** @return false when the exit ends the VM */
    private boolean handleExit() {
        int reason = run.exitReason();
        return switch (reason) {
            case KvmConstants.KVM_EXIT_IO -> handleIo();
            case KvmConstants.KVM_EXIT_MMIO -> handleMmio();
            case KvmConstants.KVM_EXIT_INTR -> true;
            case KvmConstants.KVM_EXIT_HLT -> fatal(VmExit.Kind.HLT,
                    "guest halted (KVM_EXIT_HLT) and nothing will wake it");
            case KvmConstants.KVM_EXIT_SHUTDOWN -> fatal(VmExit.Kind.SHUTDOWN,
                    "guest shut down (KVM_EXIT_SHUTDOWN, e.g. a triple fault)");
            case KvmConstants.KVM_EXIT_INTERNAL_ERROR -> fatal(VmExit.Kind.INTERNAL_ERROR,
                    "KVM internal error (KVM_EXIT_INTERNAL_ERROR), suberror " + run.internalSuberror() + " ("
                            + internalErrorName(run.internalSuberror()) + "), data " + hex(run.internalData()));
            case KvmConstants.KVM_EXIT_FAIL_ENTRY -> fatal(VmExit.Kind.FAIL_ENTRY,
                    "entry to the guest failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x"
                            + Long.toHexString(run.failEntryReason()) + " on host CPU " + run.failEntryCpu());
            case KvmConstants.KVM_EXIT_SYSTEM_EVENT -> fatal(VmExit.Kind.SYSTEM_EVENT,
                    "guest system event (KVM_EXIT_SYSTEM_EVENT) " + systemEventName(run.systemEventType())
                            + ", data " + hex(run.systemEventData()));
            default -> fatal(VmExit.Kind.UNHANDLED_EXIT, "unhandled exit " + KvmConstants.exitReasonName(reason)
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
                    io.portWrite(index(), port, size, load(data, offset, size));
                } else {
                    store(data, offset, size, io.portRead(index(), port, size));
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
                io.mmioWrite(index(), address, length, load(data, 0, length));
            } else {
                store(data, 0, length, io.mmioRead(index(), address, length));
            }
            return true;
        } catch (RuntimeException | Error e) {
            return handlerFailed(e, "MMIO " + (write ? "write to" : "read from") + " 0x" + Long.toHexString(address)
                    + " (size " + length + ")");
        }
    }

    private boolean handlerFailed(Throwable e, String access) {
        vm.fail(new VmExit(VmExit.Kind.IO_HANDLER_FAILED, index(),
                "vCPU " + index() + ": I/O handler failed on " + access + ": " + e, RegisterDump.of(fd), e));
        return false;
    }

    private boolean fatal(VmExit.Kind kind, String reason) {
        vm.fail(new VmExit(kind, index(), "vCPU " + index() + ": " + reason, RegisterDump.of(fd), null));
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

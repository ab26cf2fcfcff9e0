package dev.thaw.emulated.cpu;

import dev.thaw.api.state.MpState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.HexFormat;

/**
 * One x86-64 vCPU as an interpreter: runs guest code from shared {@link PhysicalMemory} on the calling
 * thread, reaching devices through a {@link CpuBus} and interrupts through an {@link InterruptSource}.
 *
 * <h2>Driving it</h2>
 * The runtime creates one per vCPU, {@link #importState imports} a state (the boot ABI's entry state or a
 * snapshot's), and calls {@link #run(long)} in a loop on the vCPU's thread. {@code run} returns at an
 * instruction boundary with a {@link StopReason}:
 * <ul>
 * <li>{@code BUDGET}: call again;</li>
 * <li>{@code HALTED}: HLT with nothing to take; sleep until the InterruptSource has a vector, then call
 * again ({@code run} re-asks the InterruptSource on entry and returns {@code HALTED} at once if nothing
 * is pending or RFLAGS.IF is 0);</li>
 * <li>{@code STOP_REQUESTED}: after {@link #requestStop()};</li>
 * <li>{@code WAIT_FOR_SIPI}: the vCPU waits for a start-up IPI; call {@link #startup(int)} when one
 * arrives (and {@link #init()} for an INIT).</li>
 * <li>{@code SHUTDOWN}: triple fault (or an unsupported feature); every later {@code run} returns it too.</li>
 * </ul>
 * Interrupts: at instruction boundaries with no interrupt shadow the CPU takes an NMI
 * ({@link InterruptSource#takeNmi()}), and with RFLAGS.IF=1 asks {@link InterruptSource#pendingVector()} and
 * delivers what it returns. It asks on entry to {@code run},
 * after anything of its own that may change the answer (port and MMIO writes, CR8 writes, IF becoming 1)
 * and after {@link #requestInterruptCheck()}, which another thread (the APIC raising an interrupt for this
 * vCPU) calls; so the InterruptSource is not polled on every instruction.
 *
 * <h2>Threads</h2>
 * {@code run}, {@code exportState} and {@code importState} belong to one thread at a time (the runtime
 * hands the CPU between threads with the usual happens-before, e.g. after {@code run} returned);
 * {@link #requestStop()} and {@link #requestInterruptCheck()} may be called from any thread, also from a
 * {@link CpuBus} callback during {@code run}.
 *
 * <h2>What it implements</h2>
 * The general-purpose integer instruction set of 16-, 32- and 64-bit code, real mode, protected mode with
 * segmentation and privilege checks, long mode, paging (32-bit, PAE, 4-level with 4 KiB, 2 MiB, 1 GiB
 * pages, NX, A/D bits, a TLB), exceptions and interrupts through the IDT with #DF and triple faults, NMIs
 * (blocked until IRET), the power-up and INIT states and start-up IPIs ({@link Reset}), SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, port I/O with IOPL and the TSS bitmap, MSRs ({@link Msrs}) and CPUID ({@link Cpuid}).
 * Not implemented: x87, MMX, SSE, AVX and any VEX/EVEX instruction (#UD), task switches, call gates and
 * virtual-8086 mode ({@code SHUTDOWN} with the reason), SMM, debug breakpoints
 * (debug registers are stored only; TF single-step works), alignment checks, SMEP/SMAP, PCID, MTRRs.
 * Every opcode that is not implemented raises #UD in the guest and is counted ({@link #unimplementedCount()},
 * {@link #lastUnimplemented()}).
 *
 * <h2>Differential testing</h2>
 * With {@link Options#reportExceptions()} exceptions and software interrupts are not delivered through the
 * IDT: {@code run} returns {@link StopReason.Kind#EXCEPTION} with the vector and error code (RIP on the
 * faulting instruction; after INT n/INT3/INTO/INT1). {@link FlatLongMode} sets up 64-bit mode at CPL 3
 * or 0 with flat segments and identity-mapped memory for such tests.
 */
public final class Interpreter {

    /**
     * Construction options.
     *
     * @param vcpuCount the VM's vCPUs, for the default CPUID topology (leaf 0xB)
     * @param reportExceptions stop with {@code EXCEPTION} instead of delivering exceptions (for tests)
     */
    public record Options(int vcpuCount, boolean reportExceptions) {
        public static final Options DEFAULT = new Options(1, false);
    }

    private static final int STOP = 1, KICK = 2;
    private static final VarHandle ATTENTION;

    static {
        try {
            ATTENTION = MethodHandles.lookup().findVarHandle(Interpreter.class, "attention", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Cpu c = new Cpu();
    final Mmu mmu;
    final Msrs msrs;
    final Cpuid cpuid;
    final long[] cpuidOut = new long[4];
    private final BlockCache blocks;
    private final int apicId;
    private final boolean reportExceptions;
    final StateIo stateIo;

    @SuppressWarnings("unused") // through ATTENTION
    private volatile int attention;
    private long instructions;
    private long unimplemented;
    private String lastUnimplemented;
    /** Set by an instruction that ends the run after it (HLT, a reported software interrupt). */
    private StopReason stopAfter;
    boolean halted;
    /** Waiting for a start-up IPI: MP state UNINITIALIZED (an AP never started) or INIT_RECEIVED; else null. */
    MpState sipiWait;
    private String shutdownReason;
    final PauseLoop pauseLoop = new PauseLoop();
    /** The current instruction delivered a software interrupt (which takes the single-step trap's place). */
    private boolean eventDelivered;
    final PendingEvents events;

    /**
     * A vCPU with this interpreter's own CPUID table for APIC ID {@code apicId}, in the power-up state:
     * APIC ID 0 (the BSP) runnable at the reset vector, the others waiting for INIT and a start-up IPI.
     */
    public Interpreter(PhysicalMemory memory, CpuBus bus, InterruptSource irq, int apicId) {
        this(memory, bus, irq, apicId, Options.DEFAULT);
    }

    public Interpreter(PhysicalMemory memory, CpuBus bus, InterruptSource irq, int apicId, Options options) {
        this.apicId = apicId;
        this.reportExceptions = options.reportExceptions();
        c.owner = this;
        c.bus = bus;
        c.irq = irq;
        this.cpuid = new Cpuid(Cpuid.defaultTable(apicId, options.vcpuCount()));
        this.msrs = new Msrs(c);
        this.mmu = new Mmu(c, memory, bus);
        c.mmu = mmu;
        this.blocks = new BlockCache(c, mmu, new Decoder(c, mmu));
        this.events = new PendingEvents(this, reportExceptions);
        this.stateIo = new StateIo(this);
        applyCpuid();
        Reset.apply(this, false);
        sipiWait = apicId == 0 ? null : MpState.UNINITIALIZED;
    }

    void applyCpuid() {
        mmu.walker.maxPhysAddr = cpuid.maxPhysAddr;
        mmu.walker.gbPages = cpuid.gbPages;
        mmu.flushAll();
    }

    public int apicId() {
        return apicId;
    }

    // ---- running ----

    /**
     * Runs at most {@code maxInstructions} instructions (a REP string instruction counts once per chunk of
     * iterations) and returns why it stopped.
     */
    public StopReason run(long maxInstructions) {
        Cpu c = this.c;
        if (shutdownReason != null) {
            return StopReason.shutdown(shutdownReason);
        }
        if (sipiWait != null) {
            events.takeNmi(); // held until a start-up IPI lets the vCPU run
            return (attention & STOP) != 0 ? takeStop() : StopReason.WAIT_FOR_SIPI;
        }
        c.checkInterrupts = true;
        if (halted && !wake()) {
            return (attention & STOP) != 0 ? takeStop() : StopReason.HALTED;
        }
        long n = 0;
        while (true) {
            if (attention != 0) {
                if ((attention & STOP) != 0) {
                    return takeStop();
                }
                ATTENTION.getAndBitwiseAnd(this, ~KICK);
                c.checkInterrupts = true;
            }
            if (n >= maxInstructions) {
                return StopReason.BUDGET;
            }
            if ((c.checkInterrupts || events.injectedVector >= 0) && c.shadow == 0) {
                StopReason r = deliverEvents();
                if (r != null) {
                    return r;
                }
            }
            int done = runBlock(maxInstructions - n);
            n += done;
            instructions += done;
            if (stopAfter != null || shutdownReason != null) {
                if (shutdownReason != null) {
                    return StopReason.shutdown(shutdownReason);
                }
                StopReason r = stopAfter;
                stopAfter = null;
                if (r != StopReason.HALTED || !wake()) {
                    return r;
                }
            }
        }
    }

    /**
     * Runs the block at CS:RIP: all of it, or up to {@code budget} instructions, or up to an instruction
     * after which a boundary must be looked at (something for the interrupt check, a write to the block's
     * own page), or only its first instruction when single-stepping (RFLAGS.TF). Returns how many
     * instructions ran; one that faulted counts, its exception raised for delivery at the boundary.
     */
    private int runBlock(long budget) {
        Cpu c = this.c;
        c.insnStart = c.rip;
        int k = 0;
        try {
            Block b = blocks.get();
            Insn[] insns = b.insns;
            if ((c.rflagsOther & Cpu.TF) != 0) {
                singleStep(insns[0]);
                return 1;
            }
            int limit = budget < b.count ? (int) budget : b.count;
            c.codeWritten = false;
            while (true) {
                Insn i = insns[k];
                long next = c.rip + i.len;
                c.rip = c.mode64 ? next : next & c.ipMask();
                c.shadow = 0;
                Executor.execute(c, i);
                k++;
                if (k >= limit || c.checkInterrupts || c.codeWritten) {
                    return k;
                }
                c.insnStart = c.rip;
            }
        } catch (CpuException e) {
            c.rip = c.insnStart;
            c.shadow = 0;
            events.raise(e.vector, e.errorCode, Interrupts.EXCEPTION);
        } catch (UnsupportedFeature u) {
            c.rip = c.insnStart;
            shutdownReason = u.getMessage() + " at rip 0x" + Long.toHexString(c.rip);
        } catch (RuntimeException bug) {
            // an interpreter bug must not leave the vCPU half-way through an instruction
            c.rip = c.insnStart;
            StackTraceElement[] at = bug.getStackTrace();
            shutdownReason = "internal error at rip 0x" + Long.toHexString(c.rip) + ": " + bug
                    + (at.length > 0 ? " at " + at[0] : "");
        }
        return k + 1;
    }

    /** One instruction with RFLAGS.TF set: the single-step trap follows it unless it delivered an event itself. */
    private void singleStep(Insn i) {
        long next = c.rip + i.len;
        c.rip = c.mode64 ? next : next & c.ipMask();
        c.shadow = 0;
        eventDelivered = false;
        Executor.execute(c, i);
        if (!eventDelivered && c.shadow != Cpu.SHADOW_MOV_SS) {
            c.dr[6] |= 0x4000; // BS: single-step trap after the instruction
            events.raise(CpuException.DB, CpuException.NO_ERROR, Interrupts.EXCEPTION);
        }
    }

    private StopReason takeStop() {
        ATTENTION.getAndBitwiseAnd(this, ~STOP);
        return StopReason.STOP_REQUESTED;
    }

    /** Leaves HLT if an interrupt can be taken now (it is delivered at the next boundary). */
    private boolean wake() {
        if (events.deliverable()) {
            halted = false;
            c.checkInterrupts = true;
            return true;
        }
        halted = true;
        return false;
    }

    /** Delivers what is pending at this boundary ({@link PendingEvents}); a stop reason or null. */
    private StopReason deliverEvents() {
        events.deliver();
        if (shutdownReason != null) {
            return StopReason.shutdown(shutdownReason);
        }
        StopReason r = stopAfter;
        stopAfter = null;
        return r;
    }

    /** Whether a REP string instruction should yield at this iteration boundary. */
    boolean wantsBoundary() {
        return attention != 0 || (c.checkInterrupts && c.interruptsEnabled());
    }

    /** Ends this run after the current instruction or event with {@code reason}. */
    void stopAfter(StopReason reason) {
        stopAfter = reason;
    }

    /** The vCPU cannot go on ({@code SHUTDOWN} from now on): a triple fault or an unsupported feature. */
    void shutdown(String reason) {
        shutdownReason = reason;
    }

    // ---- called by instructions ----

    /** INT n, INT3, INTO, INT1: RIP is already the return address; a delivery fault is the instruction's. */
    void softwareInterrupt(int vector, int kind) {
        if (reportExceptions) {
            stopAfter = StopReason.exception(vector, -1);
            return;
        }
        Interrupts.deliver(c, vector, kind, -1);
        eventDelivered = true;
        c.checkInterrupts = true;
    }

    /** HLT (CPL 0): the run ends with HALTED unless an interrupt can be taken right away. */
    void hlt() {
        SystemOps.requireCpl0(c);
        halted = true;
        stopAfter = StopReason.HALTED;
    }

    /** PAUSE: a spin-wait hint; a spin loop that goes on sleeps ({@link PauseLoop}). */
    void pause() {
        pauseLoop.pause(instructions);
    }

    /** An opcode this interpreter does not implement: counted, then #UD in the guest. */
    void unimplemented(Insn i) {
        unimplemented++;
        StringBuilder b = new StringBuilder();
        try {
            long lin = c.mode64 ? c.insnStart : (c.segBase[Cpu.CS] + c.insnStart) & 0xffff_ffffL;
            byte[] bytes = new byte[Math.max(1, Math.min(i.len, 15))];
            for (int k = 0; k < bytes.length; k++) {
                bytes[k] = (byte) mmu.fetch(lin + k);
            }
            b.append(HexFormat.ofDelimiter(" ").formatHex(bytes));
        } catch (CpuException e) {
            b.append("opcode 0x").append(Integer.toHexString(i.op));
        }
        lastUnimplemented = b + " at rip 0x" + Long.toHexString(c.insnStart);
        throw CpuException.ud();
    }

    // ---- INIT and start-up IPI (taken by the runtime from the local APIC, on the vCPU's thread) ----

    /**
     * INIT: the CPU goes to its INIT state ({@link Reset}); the BSP (APIC ID 0) runs on from the reset
     * vector, any other vCPU waits for a start-up IPI (MP state INIT_RECEIVED), as in KVM.
     */
    public void init() {
        Reset.apply(this, true);
        sipiWait = apicId == 0 ? null : MpState.INIT_RECEIVED;
    }

    /**
     * A start-up IPI: a vCPU that waits for one after an INIT starts in real mode at {@code vector << 12}
     * and returns true; at any other time the IPI is dropped (false).
     */
    public boolean startup(int vector) {
        if (sipiWait != MpState.INIT_RECEIVED) {
            return false;
        }
        Reset.startAt(c, vector);
        sipiWait = null;
        return true;
    }

    /** Whether the vCPU waits for a start-up IPI (MP state UNINITIALIZED or INIT_RECEIVED). */
    public boolean awaitsStartup() {
        return sipiWait != null;
    }

    /** Drops what was pending or in progress: injected events, HLT, a shutdown (INIT and power-up). */
    void dropEvents() {
        events.drop();
        halted = false;
        stopAfter = null;
        shutdownReason = null;
    }

    // ---- control from other threads ----

    /** Makes {@link #run} return {@code STOP_REQUESTED} at the next instruction boundary. Any thread. */
    public void requestStop() {
        ATTENTION.getAndBitwiseOr(this, STOP);
    }

    /** Makes the CPU ask its InterruptSource again at the next instruction boundary. Any thread. */
    public void requestInterruptCheck() {
        ATTENTION.getAndBitwiseOr(this, KICK);
    }

    // ---- state ----

    /** The current state (call while not running), with an NMI the InterruptSource holds as pending. */
    public CpuState exportState() {
        events.takeNmi();
        return stateIo.export();
    }

    /** RFLAGS.IF (call while not running). */
    public boolean interruptsEnabled() {
        return c.interruptsEnabled();
    }

    /**
     * Replaces the whole CPU state (call while not running); flushes the TLB. The APIC base in its Sregs is
     * not the CPU's: the runtime restores it with the local APIC ({@link InterruptSource#apicBaseMsr()}).
     */
    public void importState(CpuState state) {
        stateIo.importState(state);
        shutdownReason = state.events().tripleFaultPending() != 0 ? "triple fault pending in the imported state"
                : null;
        stopAfter = null;
    }

    /** Whether the vCPU is halted (HLT, or imported in MP state HALTED). */
    public boolean isHalted() {
        return halted;
    }

    // ---- counters ----

    /** Instructions executed since construction. */
    public long instructions() {
        return instructions;
    }

    /** #UD raised because an opcode is not implemented. */
    public long unimplementedCount() {
        return unimplemented;
    }

    /** The bytes and RIP of the last unimplemented opcode, or null. */
    public String lastUnimplemented() {
        return lastUnimplemented;
    }
}

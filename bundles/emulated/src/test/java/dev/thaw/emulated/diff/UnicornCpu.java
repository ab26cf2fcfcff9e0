package dev.thaw.emulated.diff;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.thaw.linux.unicorn.UcX86;
import dev.thaw.linux.unicorn.Unicorn;
import java.lang.foreign.MemorySegment;

/**
 * Unicorn 2 as a {@link CpuUnderTest}: the oracle. 64-bit mode ({@code UC_MODE_64}), guest memory
 * mapped from a segment of this engine's arena ({@code uc_mem_map_ptr}), exceptions taken by an
 * interrupt hook that stops emulation. Unicorn runs at CPL0; the test keeps to instructions whose
 * user-mode behaviour is the same (POPF loads only {@link Flags#POPF_SAFE} bits).
 *
 * <p>One instruction is run by stopping at every address it may continue at (Unicorn's exits: the
 * next instruction and a branch target), not with an instruction count: a count stops a REP string
 * instruction after one iteration and costs about 80 times as much per step (measured: 250 µs vs 3 µs).
 *
 * <p>Unicorn 2.0.1 quirks handled here. After an exception it hands to the hook, its CPU keeps the
 * exception as "in progress": the next contributory fault becomes a double fault (#DF) and later faults
 * stop emulation silently; so {@link #reset} restores the CPU context saved when the engine was new. Its
 * x86 CPU models lack POPCNT and MOVBE ({@code #UD}); for those the step applies the generator's Java
 * model ({@link StepHint#fallback()}). And where its translator (QEMU 5.0's) is wrong and the host CPU
 * and the SDM agree on the answer, the step applies the generator's correction
 * ({@link StepHint#oracleFix()}); {@link Forms} lists those bugs.
 */
final class UnicornCpu implements CpuUnderTest {

    private static final int[] STATE_REGS = stateRegs();

    private final Unicorn uc;
    private final MemorySegment memory;
    private final Unicorn.RegBatch batch;
    private final MemorySegment pristine;
    private final MemorySegment exits;
    private final long[] values = new long[STATE_REGS.length];
    private final String name;

    UnicornCpu(String name) {
        this.name = name;
        uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64);
        try {
            memory = uc.arena().allocate(GuestLayout.RAM_SIZE, 4096);
            uc.memMapPtr(0, memory, Unicorn.UC_PROT_ALL);
            uc.hookInterruptsToStop();
            uc.enableExits();
            batch = uc.batch(STATE_REGS);
            exits = uc.arena().allocate(JAVA_LONG, 8);
            pristine = uc.saveContext();
        } catch (RuntimeException e) {
            uc.close();
            throw e;
        }
    }

    UnicornCpu() {
        this("unicorn");
    }

    private static int[] stateRegs() {
        int[] r = new int[20];
        System.arraycopy(UcX86.gprs(), 0, r, 0, 16);
        r[16] = UcX86.UC_X86_REG_RIP;
        r[17] = UcX86.UC_X86_REG_RFLAGS;
        r[18] = UcX86.UC_X86_REG_FS_BASE;
        r[19] = UcX86.UC_X86_REG_GS_BASE;
        return r;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public MemorySegment memory() {
        return memory;
    }

    @Override
    public void reset(CpuState state) {
        uc.restoreContext(pristine);
        uc.removeTranslations(GuestLayout.CODE, GuestLayout.CODE + GuestLayout.CODE_SIZE);
        uc.takeInterrupt();
        setState(state);
    }

    @Override
    public void setState(CpuState s) {
        long[] g = s.gprs();
        System.arraycopy(g, 0, values, 0, 16);
        values[16] = s.rip();
        values[17] = s.rflags();
        values[18] = s.fsBase();
        values[19] = s.gsBase();
        batch.write(values);
    }

    @Override
    public CpuState state() {
        batch.read(values);
        long[] g = new long[16];
        System.arraycopy(values, 0, g, 0, 16);
        return new CpuState(g, values[16], values[17], values[18], values[19]);
    }

    @Override
    public void codeWritten(long address, int length) {
        // Each step starts at an address no translation block has started at since the last reset,
        // which drops the code area's blocks; nothing to drop here.
    }

    @Override
    public Outcome step(StepHint hint) {
        long rip = uc.regRead(UcX86.UC_X86_REG_RIP);
        long[] e = hint.exits();
        for (int i = 0; i < e.length; i++) {
            exits.setAtIndex(JAVA_LONG, i, e[i]);
        }
        uc.setExits(exits, e.length);
        CpuState before = hint.oracleFix() != null ? state() : null;
        uc.takeInterrupt();
        int err = uc.emuStart(rip, 0, 0, 0);
        int vector = uc.takeInterrupt();
        if (vector >= 0) {
            return Outcome.exception(vector);
        }
        if (err == Unicorn.UC_ERR_INSN_INVALID) {
            if (hint.fallback() != null) {
                hint.fallback().apply(this);
                return Outcome.RETIRED;
            }
            return Outcome.exception(6);
        }
        if (err != Unicorn.UC_ERR_OK) {
            return Outcome.other(Unicorn.strerror(err));
        }
        long now = uc.regRead(UcX86.UC_X86_REG_RIP);
        for (long x : e) {
            if (now == x) {
                if (before != null) {
                    hint.oracleFix().apply(this, before);
                }
                return Outcome.RETIRED;
            }
        }
        return Outcome.other("stopped at " + Text.hex(now) + ", not at an exit");
    }

    @Override
    public void close() {
        Unicorn.freeContext(pristine);
        uc.close();
    }
}

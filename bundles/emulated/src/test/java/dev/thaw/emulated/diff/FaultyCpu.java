package dev.thaw.emulated.diff;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.util.function.IntPredicate;

/**
 * A CPU under test that is Unicorn with one planted bug: after an instruction whose primary opcode
 * matches, it flips some RFLAGS bits or corrupts a byte of the data area. The harness must report
 * exactly the forms with that opcode (and nothing if the flipped flag is undefined for them).
 */
final class FaultyCpu implements CpuUnderTest {

    private final UnicornCpu cpu = new UnicornCpu("faulty-unicorn");
    private final IntPredicate opcode;
    private final long flipFlags;
    private final long corruptAddress;

    FaultyCpu(IntPredicate opcode, long flipFlags, long corruptAddress) {
        this.opcode = opcode;
        this.flipFlags = flipFlags;
        this.corruptAddress = corruptAddress;
    }

    @Override
    public String name() {
        return cpu.name();
    }

    @Override
    public MemorySegment memory() {
        return cpu.memory();
    }

    @Override
    public void reset(CpuState state) {
        cpu.reset(state);
    }

    @Override
    public void setState(CpuState state) {
        cpu.setState(state);
    }

    @Override
    public CpuState state() {
        return cpu.state();
    }

    @Override
    public void codeWritten(long address, int length) {
        cpu.codeWritten(address, length);
    }

    /** The first byte after legacy prefixes and REX. */
    static int primaryOpcode(MemorySegment memory, long rip) {
        long p = rip;
        while (true) {
            int b = memory.get(JAVA_BYTE, p) & 0xff;
            boolean prefix = switch (b) {
                case 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 -> true;
                default -> (b & 0xf0) == 0x40;
            };
            if (!prefix) {
                return b;
            }
            p++;
        }
    }

    @Override
    public Outcome step(StepHint hint) {
        int op = primaryOpcode(cpu.memory(), cpu.state().rip());
        Outcome o = cpu.step(hint);
        if (opcode.test(op) && o.equals(Outcome.RETIRED)) {
            if (flipFlags != 0) {
                CpuState s = cpu.state();
                cpu.setState(s.withRflags(s.rflags() ^ flipFlags));
            }
            if (corruptAddress != 0) {
                cpu.memory().set(JAVA_BYTE, corruptAddress, (byte) ~cpu.memory().get(JAVA_BYTE, corruptAddress));
            }
        }
        return o;
    }

    @Override
    public void close() {
        cpu.close();
    }
}

package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.DebugRegs;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_debugregs} (asm/kvm.h), for KVM_GET_DEBUGREGS and KVM_SET_DEBUGREGS. */
public final class KvmDebugregs {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(4, U64).withName("db"), U64.withName("dr6"), U64.withName("dr7"),
            U64.withName("flags"), MemoryLayout.sequenceLayout(9, U64).withName("reserved"))
            .withName("struct kvm_debugregs");

    private static final long DB = offset(LAYOUT, "db");
    private static final long DR6 = offset(LAYOUT, "dr6");
    private static final long DR7 = offset(LAYOUT, "dr7");
    private static final long FLAGS = offset(LAYOUT, "flags");

    private KvmDebugregs() {}

    public static DebugRegs read(MemorySegment s) {
        return new DebugRegs(u64(s, DB), u64(s, DB + 8), u64(s, DB + 16), u64(s, DB + 24),
                u64(s, DR6), u64(s, DR7), u64(s, FLAGS));
    }

    public static void write(MemorySegment s, DebugRegs v) {
        s.set(U64, DB, v.db0());
        s.set(U64, DB + 8, v.db1());
        s.set(U64, DB + 16, v.db2());
        s.set(U64, DB + 24, v.db3());
        s.set(U64, DR6, v.dr6());
        s.set(U64, DR7, v.dr7());
        s.set(U64, FLAGS, v.flags());
    }
}

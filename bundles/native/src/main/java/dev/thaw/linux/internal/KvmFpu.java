package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.bytes;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putBytes;
import static dev.thaw.linux.internal.Mem.putU16;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.putU8;
import static dev.thaw.linux.internal.Mem.u16;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;
import static dev.thaw.linux.internal.Mem.u8;

import dev.thaw.api.state.Fpu;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_fpu} (asm/kvm.h), for KVM_GET_FPU and KVM_SET_FPU. */
public final class KvmFpu {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(8, MemoryLayout.sequenceLayout(16, U8)).withName("fpr"),
            U16.withName("fcw"), U16.withName("fsw"), U8.withName("ftwx"), U8.withName("pad1"),
            U16.withName("last_opcode"), U64.withName("last_ip"), U64.withName("last_dp"),
            MemoryLayout.sequenceLayout(16, MemoryLayout.sequenceLayout(16, U8)).withName("xmm"),
            U32.withName("mxcsr"), U32.withName("pad2"))
            .withName("struct kvm_fpu");

    private static final long FPR = offset(LAYOUT, "fpr");
    private static final long FCW = offset(LAYOUT, "fcw");
    private static final long FSW = offset(LAYOUT, "fsw");
    private static final long FTWX = offset(LAYOUT, "ftwx");
    private static final long LAST_OPCODE = offset(LAYOUT, "last_opcode");
    private static final long LAST_IP = offset(LAYOUT, "last_ip");
    private static final long LAST_DP = offset(LAYOUT, "last_dp");
    private static final long XMM = offset(LAYOUT, "xmm");
    private static final long MXCSR = offset(LAYOUT, "mxcsr");

    private KvmFpu() {}

    public static Fpu read(MemorySegment s) {
        return new Fpu(bytes(s, FPR, Fpu.FPR_BYTES), u16(s, FCW), u16(s, FSW), u8(s, FTWX), u16(s, LAST_OPCODE),
                u64(s, LAST_IP), u64(s, LAST_DP), bytes(s, XMM, Fpu.XMM_BYTES), u32(s, MXCSR));
    }

    public static void write(MemorySegment s, Fpu v) {
        putBytes(s, FPR, v.fpr(), Fpu.FPR_BYTES, "fpr");
        putU16(s, FCW, v.fcw(), "fcw");
        putU16(s, FSW, v.fsw(), "fsw");
        putU8(s, FTWX, v.ftwx(), "ftwx");
        putU16(s, LAST_OPCODE, v.lastOpcode(), "last_opcode");
        s.set(U64, LAST_IP, v.lastIp());
        s.set(U64, LAST_DP, v.lastDp());
        putBytes(s, XMM, v.xmm(), Fpu.XMM_BYTES, "xmm");
        putU32(s, MXCSR, v.mxcsr(), "mxcsr");
    }
}

package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.u64;

import dev.thaw.api.state.Regs;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_regs} (asm/kvm.h), for KVM_GET_REGS and KVM_SET_REGS. */
public final class KvmRegs {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("rax"), U64.withName("rbx"), U64.withName("rcx"), U64.withName("rdx"),
            U64.withName("rsi"), U64.withName("rdi"), U64.withName("rsp"), U64.withName("rbp"),
            U64.withName("r8"), U64.withName("r9"), U64.withName("r10"), U64.withName("r11"),
            U64.withName("r12"), U64.withName("r13"), U64.withName("r14"), U64.withName("r15"),
            U64.withName("rip"), U64.withName("rflags")).withName("struct kvm_regs");

    private static final long RAX = offset(LAYOUT, "rax");
    private static final long RBX = offset(LAYOUT, "rbx");
    private static final long RCX = offset(LAYOUT, "rcx");
    private static final long RDX = offset(LAYOUT, "rdx");
    private static final long RSI = offset(LAYOUT, "rsi");
    private static final long RDI = offset(LAYOUT, "rdi");
    private static final long RSP = offset(LAYOUT, "rsp");
    private static final long RBP = offset(LAYOUT, "rbp");
    private static final long R8 = offset(LAYOUT, "r8");
    private static final long R9 = offset(LAYOUT, "r9");
    private static final long R10 = offset(LAYOUT, "r10");
    private static final long R11 = offset(LAYOUT, "r11");
    private static final long R12 = offset(LAYOUT, "r12");
    private static final long R13 = offset(LAYOUT, "r13");
    private static final long R14 = offset(LAYOUT, "r14");
    private static final long R15 = offset(LAYOUT, "r15");
    private static final long RIP = offset(LAYOUT, "rip");
    private static final long RFLAGS = offset(LAYOUT, "rflags");

    private KvmRegs() {}

    public static Regs read(MemorySegment s) {
        return new Regs(u64(s, RAX), u64(s, RBX), u64(s, RCX), u64(s, RDX),
                u64(s, RSI), u64(s, RDI), u64(s, RSP), u64(s, RBP),
                u64(s, R8), u64(s, R9), u64(s, R10), u64(s, R11),
                u64(s, R12), u64(s, R13), u64(s, R14), u64(s, R15),
                u64(s, RIP), u64(s, RFLAGS));
    }

    public static void write(MemorySegment s, Regs r) {
        s.set(U64, RAX, r.rax());
        s.set(U64, RBX, r.rbx());
        s.set(U64, RCX, r.rcx());
        s.set(U64, RDX, r.rdx());
        s.set(U64, RSI, r.rsi());
        s.set(U64, RDI, r.rdi());
        s.set(U64, RSP, r.rsp());
        s.set(U64, RBP, r.rbp());
        s.set(U64, R8, r.r8());
        s.set(U64, R9, r.r9());
        s.set(U64, R10, r.r10());
        s.set(U64, R11, r.r11());
        s.set(U64, R12, r.r12());
        s.set(U64, R13, r.r13());
        s.set(U64, R14, r.r14());
        s.set(U64, R15, r.r15());
        s.set(U64, RIP, r.rip());
        s.set(U64, RFLAGS, r.rflags());
    }
}

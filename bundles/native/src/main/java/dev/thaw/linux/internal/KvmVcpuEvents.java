package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU32;
import static dev.thaw.linux.internal.Mem.putU8;
import static dev.thaw.linux.internal.Mem.u32;
import static dev.thaw.linux.internal.Mem.u64;
import static dev.thaw.linux.internal.Mem.u8;

import dev.thaw.api.state.VcpuEvents;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_vcpu_events} (asm/kvm.h), for KVM_GET_VCPU_EVENTS and KVM_SET_VCPU_EVENTS. */
public final class KvmVcpuEvents {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.structLayout(U8.withName("injected"), U8.withName("nr"), U8.withName("has_error_code"),
                    U8.withName("pending"), U32.withName("error_code")).withName("exception"),
            MemoryLayout.structLayout(U8.withName("injected"), U8.withName("nr"), U8.withName("soft"),
                    U8.withName("shadow")).withName("interrupt"),
            MemoryLayout.structLayout(U8.withName("injected"), U8.withName("pending"), U8.withName("masked"),
                    U8.withName("pad")).withName("nmi"),
            U32.withName("sipi_vector"), U32.withName("flags"),
            MemoryLayout.structLayout(U8.withName("smm"), U8.withName("pending"), U8.withName("smm_inside_nmi"),
                    U8.withName("latched_init")).withName("smi"),
            MemoryLayout.structLayout(U8.withName("pending")).withName("triple_fault"),
            MemoryLayout.sequenceLayout(26, U8).withName("reserved"),
            U8.withName("exception_has_payload"), U64.withName("exception_payload"))
            .withName("struct kvm_vcpu_events");

    private static final long EX_INJECTED = offset(LAYOUT, "exception", "injected");
    private static final long EX_NR = offset(LAYOUT, "exception", "nr");
    private static final long EX_HAS_ERROR_CODE = offset(LAYOUT, "exception", "has_error_code");
    private static final long EX_PENDING = offset(LAYOUT, "exception", "pending");
    private static final long EX_ERROR_CODE = offset(LAYOUT, "exception", "error_code");
    private static final long INT_INJECTED = offset(LAYOUT, "interrupt", "injected");
    private static final long INT_NR = offset(LAYOUT, "interrupt", "nr");
    private static final long INT_SOFT = offset(LAYOUT, "interrupt", "soft");
    private static final long INT_SHADOW = offset(LAYOUT, "interrupt", "shadow");
    private static final long NMI_INJECTED = offset(LAYOUT, "nmi", "injected");
    private static final long NMI_PENDING = offset(LAYOUT, "nmi", "pending");
    private static final long NMI_MASKED = offset(LAYOUT, "nmi", "masked");
    private static final long SIPI_VECTOR = offset(LAYOUT, "sipi_vector");
    private static final long FLAGS = offset(LAYOUT, "flags");
    private static final long SMI_SMM = offset(LAYOUT, "smi", "smm");
    private static final long SMI_PENDING = offset(LAYOUT, "smi", "pending");
    private static final long SMI_INSIDE_NMI = offset(LAYOUT, "smi", "smm_inside_nmi");
    private static final long SMI_LATCHED_INIT = offset(LAYOUT, "smi", "latched_init");
    private static final long TRIPLE_FAULT_PENDING = offset(LAYOUT, "triple_fault", "pending");
    private static final long EXCEPTION_HAS_PAYLOAD = offset(LAYOUT, "exception_has_payload");
    private static final long EXCEPTION_PAYLOAD = offset(LAYOUT, "exception_payload");

    private KvmVcpuEvents() {}

    public static VcpuEvents read(MemorySegment s) {
        return new VcpuEvents(
                new VcpuEvents.ExceptionState(u8(s, EX_INJECTED), u8(s, EX_NR), u8(s, EX_HAS_ERROR_CODE),
                        u8(s, EX_PENDING), u32(s, EX_ERROR_CODE)),
                new VcpuEvents.InterruptState(u8(s, INT_INJECTED), u8(s, INT_NR), u8(s, INT_SOFT), u8(s, INT_SHADOW)),
                new VcpuEvents.NmiState(u8(s, NMI_INJECTED), u8(s, NMI_PENDING), u8(s, NMI_MASKED)),
                u32(s, SIPI_VECTOR), u32(s, FLAGS),
                new VcpuEvents.SmiState(u8(s, SMI_SMM), u8(s, SMI_PENDING), u8(s, SMI_INSIDE_NMI),
                        u8(s, SMI_LATCHED_INIT)),
                u8(s, TRIPLE_FAULT_PENDING), u8(s, EXCEPTION_HAS_PAYLOAD), u64(s, EXCEPTION_PAYLOAD));
    }

    public static void write(MemorySegment s, VcpuEvents v) {
        putU8(s, EX_INJECTED, v.exception().injected(), "exception.injected");
        putU8(s, EX_NR, v.exception().nr(), "exception.nr");
        putU8(s, EX_HAS_ERROR_CODE, v.exception().hasErrorCode(), "exception.has_error_code");
        putU8(s, EX_PENDING, v.exception().pending(), "exception.pending");
        putU32(s, EX_ERROR_CODE, v.exception().errorCode(), "exception.error_code");
        putU8(s, INT_INJECTED, v.interrupt().injected(), "interrupt.injected");
        putU8(s, INT_NR, v.interrupt().nr(), "interrupt.nr");
        putU8(s, INT_SOFT, v.interrupt().soft(), "interrupt.soft");
        putU8(s, INT_SHADOW, v.interrupt().shadow(), "interrupt.shadow");
        putU8(s, NMI_INJECTED, v.nmi().injected(), "nmi.injected");
        putU8(s, NMI_PENDING, v.nmi().pending(), "nmi.pending");
        putU8(s, NMI_MASKED, v.nmi().masked(), "nmi.masked");
        putU32(s, SIPI_VECTOR, v.sipiVector(), "sipi_vector");
        putU32(s, FLAGS, v.flags(), "flags");
        putU8(s, SMI_SMM, v.smi().smm(), "smi.smm");
        putU8(s, SMI_PENDING, v.smi().pending(), "smi.pending");
        putU8(s, SMI_INSIDE_NMI, v.smi().smmInsideNmi(), "smi.smm_inside_nmi");
        putU8(s, SMI_LATCHED_INIT, v.smi().latchedInit(), "smi.latched_init");
        putU8(s, TRIPLE_FAULT_PENDING, v.tripleFaultPending(), "triple_fault.pending");
        putU8(s, EXCEPTION_HAS_PAYLOAD, v.exceptionHasPayload(), "exception_has_payload");
        s.set(U64, EXCEPTION_PAYLOAD, v.exceptionPayload());
    }
}

package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U32;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_xsave} (asm/kvm.h), for KVM_GET_XSAVE, KVM_GET_XSAVE2 and KVM_SET_XSAVE. The
 * modelled part is the fixed 4096-byte {@code region}; KVM_GET_XSAVE2 and KVM_SET_XSAVE use as many
 * bytes beyond it ({@code extra[]}) as {@code KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)} reports.
 */
public final class KvmXsave {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(1024, U32).withName("region"))
            .withName("struct kvm_xsave");

    private KvmXsave() {}
}

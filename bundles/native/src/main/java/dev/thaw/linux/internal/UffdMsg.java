package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct uffd_msg} (linux/userfaultfd.h, packed, 32 bytes), what read(2) on a userfaultfd returns.
 * The {@code arg} union's variants share three 64-bit words; the pagefault variant is modelled by name.
 */
public final class UffdMsg {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("event"), U8.withName("reserved1"), U16.withName("reserved2"), U32.withName("reserved3"),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(U64.withName("flags"), U64.withName("address"),
                            MemoryLayout.unionLayout(U32.withName("ptid")).withName("feat"),
                            MemoryLayout.paddingLayout(4)).withName("pagefault"),
                    MemoryLayout.structLayout(U32.withName("ufd")).withName("fork"),
                    MemoryLayout.structLayout(U64.withName("from"), U64.withName("to"), U64.withName("len")).withName("remap"),
                    MemoryLayout.structLayout(U64.withName("start"), U64.withName("end")).withName("remove"),
                    MemoryLayout.structLayout(U64.withName("reserved1"), U64.withName("reserved2"),
                            U64.withName("reserved3")).withName("reserved")).withName("arg"))
            .withName("struct uffd_msg");

    public static final long EVENT = offset(LAYOUT, "event");
    public static final long ARG = offset(LAYOUT, "arg");
    public static final long PAGEFAULT_FLAGS = offset(LAYOUT, "arg", "pagefault", "flags");
    public static final long PAGEFAULT_ADDRESS = offset(LAYOUT, "arg", "pagefault", "address");
    public static final long PAGEFAULT_PTID = offset(LAYOUT, "arg", "pagefault", "feat", "ptid");

    private UffdMsg() {}
}

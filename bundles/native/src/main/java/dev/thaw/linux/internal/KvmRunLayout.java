package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U16;
import static dev.thaw.linux.internal.Mem.U32;
import static dev.thaw.linux.internal.Mem.U64;
import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;

/**
 * {@code struct kvm_run} (linux/kvm.h), the page shared with KVM at offset 0 of a vCPU fd's mapping.
 * The exit union is anonymous in C, so it is unnamed here; the variants Thaw reads are modelled
 * ({@code hw}, {@code fail_entry}, {@code ex}, {@code io}, {@code mmio}, {@code internal},
 * {@code system_event}), the rest is covered by the union's {@code padding[256]}. Offsets are public
 * constants for {@link dev.thaw.linux.kvm.KvmRun}.
 */
public final class KvmRunLayout {

    /** The anonymous exit-information union at offset 32. */
    public static final UnionLayout EXIT = MemoryLayout.unionLayout(
            MemoryLayout.structLayout(U64.withName("hardware_exit_reason")).withName("hw"),
            MemoryLayout.structLayout(U64.withName("hardware_entry_failure_reason"), U32.withName("cpu"),
                    MemoryLayout.paddingLayout(4)).withName("fail_entry"),
            MemoryLayout.structLayout(U32.withName("exception"), U32.withName("error_code")).withName("ex"),
            MemoryLayout.structLayout(U8.withName("direction"), U8.withName("size"), U16.withName("port"),
                    U32.withName("count"), U64.withName("data_offset")).withName("io"),
            MemoryLayout.structLayout(U64.withName("phys_addr"), MemoryLayout.sequenceLayout(8, U8).withName("data"),
                    U32.withName("len"), U8.withName("is_write"), MemoryLayout.paddingLayout(3)).withName("mmio"),
            MemoryLayout.structLayout(U32.withName("suberror"), U32.withName("ndata"),
                    MemoryLayout.sequenceLayout(16, U64).withName("data")).withName("internal"),
            MemoryLayout.structLayout(U32.withName("type"), U32.withName("ndata"),
                    MemoryLayout.unionLayout(U64.withName("flags"),
                            MemoryLayout.sequenceLayout(16, U64).withName("data"))).withName("system_event"),
            MemoryLayout.sequenceLayout(256, U8).withName("padding"));

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("request_interrupt_window"), U8.withName("immediate_exit"),
            MemoryLayout.sequenceLayout(6, U8).withName("padding1"),
            U32.withName("exit_reason"), U8.withName("ready_for_interrupt_injection"), U8.withName("if_flag"),
            U16.withName("flags"), U64.withName("cr8"), U64.withName("apic_base"),
            EXIT,
            U64.withName("kvm_valid_regs"), U64.withName("kvm_dirty_regs"),
            MemoryLayout.unionLayout(MemoryLayout.sequenceLayout(2048, U8).withName("padding")).withName("s"))
            .withName("struct kvm_run");

    private static final long EXIT_OFFSET = LAYOUT.byteOffset(PathElement.groupElement(9));

    public static final long IMMEDIATE_EXIT = offset(LAYOUT, "immediate_exit");
    public static final long EXIT_REASON = offset(LAYOUT, "exit_reason");
    public static final long READY_FOR_INTERRUPT_INJECTION = offset(LAYOUT, "ready_for_interrupt_injection");
    public static final long IF_FLAG = offset(LAYOUT, "if_flag");
    public static final long REQUEST_INTERRUPT_WINDOW = offset(LAYOUT, "request_interrupt_window");

    public static final long HW_HARDWARE_EXIT_REASON = EXIT_OFFSET + offset(EXIT, "hw", "hardware_exit_reason");
    public static final long FAIL_ENTRY_REASON = EXIT_OFFSET + offset(EXIT, "fail_entry", "hardware_entry_failure_reason");
    public static final long FAIL_ENTRY_CPU = EXIT_OFFSET + offset(EXIT, "fail_entry", "cpu");
    public static final long EX_EXCEPTION = EXIT_OFFSET + offset(EXIT, "ex", "exception");
    public static final long EX_ERROR_CODE = EXIT_OFFSET + offset(EXIT, "ex", "error_code");
    public static final long IO_DIRECTION = EXIT_OFFSET + offset(EXIT, "io", "direction");
    public static final long IO_SIZE = EXIT_OFFSET + offset(EXIT, "io", "size");
    public static final long IO_PORT = EXIT_OFFSET + offset(EXIT, "io", "port");
    public static final long IO_COUNT = EXIT_OFFSET + offset(EXIT, "io", "count");
    public static final long IO_DATA_OFFSET = EXIT_OFFSET + offset(EXIT, "io", "data_offset");
    public static final long MMIO_PHYS_ADDR = EXIT_OFFSET + offset(EXIT, "mmio", "phys_addr");
    public static final long MMIO_DATA = EXIT_OFFSET + offset(EXIT, "mmio", "data");
    public static final long MMIO_LEN = EXIT_OFFSET + offset(EXIT, "mmio", "len");
    public static final long MMIO_IS_WRITE = EXIT_OFFSET + offset(EXIT, "mmio", "is_write");
    public static final long INTERNAL_SUBERROR = EXIT_OFFSET + offset(EXIT, "internal", "suberror");
    public static final long INTERNAL_NDATA = EXIT_OFFSET + offset(EXIT, "internal", "ndata");
    public static final long INTERNAL_DATA = EXIT_OFFSET + offset(EXIT, "internal", "data");
    public static final long SYSTEM_EVENT_TYPE = EXIT_OFFSET + offset(EXIT, "system_event", "type");
    public static final long SYSTEM_EVENT_NDATA = EXIT_OFFSET + offset(EXIT, "system_event", "ndata");
    public static final long SYSTEM_EVENT_DATA = EXIT_OFFSET
            + ((StructLayout) EXIT.select(PathElement.groupElement("system_event"))).byteOffset(PathElement.groupElement(2));

    /** Entries in {@code internal.data[]} and {@code system_event.data[]}. */
    public static final int DATA_WORDS = 16;

    private KvmRunLayout() {}
}

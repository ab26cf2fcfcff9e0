package dev.thaw.linux.kvm;

import static dev.thaw.linux.internal.Mem.U64;

import dev.thaw.linux.internal.KvmRunLayout;
import dev.thaw.linux.internal.Mem;
import java.lang.foreign.MemorySegment;

/**
 * Accessors of a vCPU's mmaped {@code struct kvm_run}. Only the vCPU's own run loop should use it,
 * between KVM_RUN calls; the exit fields are meaningful for the current {@link #exitReason()}.
 */
public final class KvmRun {

    private final MemorySegment page;

    /** Wraps a segment of at least {@code sizeof(struct kvm_run)} bytes (the vCPU mapping). */
    public KvmRun(MemorySegment page) {
        if (page.byteSize() < KvmRunLayout.LAYOUT.byteSize()) {
            throw new IllegalArgumentException("kvm_run area of " + page.byteSize() + " bytes, need "
                    + KvmRunLayout.LAYOUT.byteSize());
        }
        this.page = page;
    }

    /** The whole mapped area (the kvm_run page, then the PIO data page and what follows). */
    public MemorySegment segment() {
        return page;
    }

    /** {@code exit_reason}: a {@code KVM_EXIT_*} value. */
    public int exitReason() {
        return (int) Mem.u32(page, KvmRunLayout.EXIT_REASON);
    }

    /** {@code immediate_exit}: when set, the next KVM_RUN completes pending I/O and returns EINTR. */
    public boolean immediateExit() {
        return Mem.u8(page, KvmRunLayout.IMMEDIATE_EXIT) != 0;
    }

    public void setImmediateExit(boolean value) {
        Mem.putU8(page, KvmRunLayout.IMMEDIATE_EXIT, value ? 1 : 0, "immediate_exit");
    }

    /** {@code request_interrupt_window}. */
    public void setRequestInterruptWindow(boolean value) {
        Mem.putU8(page, KvmRunLayout.REQUEST_INTERRUPT_WINDOW, value ? 1 : 0, "request_interrupt_window");
    }

    /** {@code ready_for_interrupt_injection}. */
    public boolean readyForInterruptInjection() {
        return Mem.u8(page, KvmRunLayout.READY_FOR_INTERRUPT_INJECTION) != 0;
    }

    /** {@code if_flag}: the guest's RFLAGS.IF at exit. */
    public boolean ifFlag() {
        return Mem.u8(page, KvmRunLayout.IF_FLAG) != 0;
    }

    /** {@code io.direction}: {@code KVM_EXIT_IO_IN} or {@code KVM_EXIT_IO_OUT}. */
    public int ioDirection() {
        return Mem.u8(page, KvmRunLayout.IO_DIRECTION);
    }

    /** {@code io.size}: bytes per access, 1, 2 or 4. */
    public int ioSize() {
        return Mem.u8(page, KvmRunLayout.IO_SIZE);
    }

    /** {@code io.port}. */
    public int ioPort() {
        return Mem.u16(page, KvmRunLayout.IO_PORT);
    }

    /** {@code io.count}: accesses (more than 1 for string I/O, {@code rep outs/ins}). */
    public int ioCount() {
        return (int) Mem.u32(page, KvmRunLayout.IO_COUNT);
    }

    /** {@code io.data_offset}: where the data is, relative to the start of kvm_run. */
    public long ioDataOffset() {
        return Mem.u64(page, KvmRunLayout.IO_DATA_OFFSET);
    }

    /** The {@code size * count} data bytes of the current I/O exit (to read for out, to fill for in). */
    public MemorySegment ioData() {
        return page.asSlice(ioDataOffset(), (long) ioSize() * ioCount());
    }

    /** {@code mmio.phys_addr}. */
    public long mmioPhysAddr() {
        return Mem.u64(page, KvmRunLayout.MMIO_PHYS_ADDR);
    }

    /** {@code mmio.len}: 1 to 8. */
    public int mmioLen() {
        return (int) Mem.u32(page, KvmRunLayout.MMIO_LEN);
    }

    /** {@code mmio.is_write}. */
    public boolean mmioIsWrite() {
        return Mem.u8(page, KvmRunLayout.MMIO_IS_WRITE) != 0;
    }

    /** {@code mmio.data}: the 8-byte buffer (to read for writes, to fill for reads). */
    public MemorySegment mmioData() {
        return page.asSlice(KvmRunLayout.MMIO_DATA, 8);
    }

    /** {@code ex.exception} (KVM_EXIT_EXCEPTION). */
    public long exceptionNumber() {
        return Mem.u32(page, KvmRunLayout.EX_EXCEPTION);
    }

    /** {@code ex.error_code} (KVM_EXIT_EXCEPTION). */
    public long exceptionErrorCode() {
        return Mem.u32(page, KvmRunLayout.EX_ERROR_CODE);
    }

    /** {@code internal.suberror}: a {@code KVM_INTERNAL_ERROR_*} value. */
    public long internalSuberror() {
        return Mem.u32(page, KvmRunLayout.INTERNAL_SUBERROR);
    }

    /** {@code internal.data[0..ndata)}. */
    public long[] internalData() {
        return words(KvmRunLayout.INTERNAL_NDATA, KvmRunLayout.INTERNAL_DATA);
    }

    /** {@code system_event.type}: a {@code KVM_SYSTEM_EVENT_*} value. */
    public long systemEventType() {
        return Mem.u32(page, KvmRunLayout.SYSTEM_EVENT_TYPE);
    }

    /** {@code system_event.data[0..ndata)}. */
    public long[] systemEventData() {
        return words(KvmRunLayout.SYSTEM_EVENT_NDATA, KvmRunLayout.SYSTEM_EVENT_DATA);
    }

    /** {@code fail_entry.hardware_entry_failure_reason}. */
    public long failEntryReason() {
        return Mem.u64(page, KvmRunLayout.FAIL_ENTRY_REASON);
    }

    /** {@code fail_entry.cpu}. */
    public long failEntryCpu() {
        return Mem.u32(page, KvmRunLayout.FAIL_ENTRY_CPU);
    }

    /** {@code hw.hardware_exit_reason} (KVM_EXIT_UNKNOWN). */
    public long hardwareExitReason() {
        return Mem.u64(page, KvmRunLayout.HW_HARDWARE_EXIT_REASON);
    }

    private long[] words(long ndataOffset, long dataOffset) {
        int n = (int) Math.min(Mem.u32(page, ndataOffset), KvmRunLayout.DATA_WORDS);
        long[] data = new long[n];
        for (int i = 0; i < n; i++) {
            data[i] = page.get(U64, dataOffset + 8L * i);
        }
        return data;
    }
}

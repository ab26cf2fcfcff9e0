package dev.thaw.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Handles the guest's port and MMIO accesses that the runtime does not model itself (its interrupt
 * controllers it does). Called on the vCPU's own thread ({@code vcpu-<vm>-<i>}), one access at a time per
 * vCPU; vCPUs call concurrently. Values are little-endian and zero-extended. An exception thrown here
 * ends the VM with {@link VmExit.Kind#IO_HANDLER_FAILED}.
 */
@ConsumerType
public interface IoHandler {

    /** A guest {@code in} of {@code size} bytes (1, 2 or 4) from {@code port}; returns the value read. */
    long portRead(int vcpu, int port, int size);

    /** A guest {@code out} of {@code size} bytes (1, 2 or 4) to {@code port}. String I/O arrives one element at a time. */
    void portWrite(int vcpu, int port, int size, long value);

    /** A guest read of {@code size} bytes (1 to 8) at an unbacked guest physical address. */
    default long mmioRead(int vcpu, long address, int size) {
        throw new UnsupportedOperationException("no device at MMIO address 0x" + Long.toHexString(address));
    }

    /** A guest write of {@code size} bytes (1 to 8) at an unbacked guest physical address. */
    default void mmioWrite(int vcpu, long address, int size, long value) {
        throw new UnsupportedOperationException("no device at MMIO address 0x" + Long.toHexString(address));
    }
}

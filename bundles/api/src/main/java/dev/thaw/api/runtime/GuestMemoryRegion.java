package dev.thaw.api.runtime;

import java.lang.foreign.MemorySegment;

/**
 * Guest RAM backed by anonymous host memory.
 *
 * @param index the region's place in the VM's memory, from 0
 * @param guestAddress first guest physical address
 * @param size bytes
 * @param hostAddress where the memory is mapped in this process (for userfaultfd registration);
 *     never part of a snapshot
 * @param memory the host mapping, for the VMM to write images and boot data; invalid once the VM is closed
 */
public record GuestMemoryRegion(int index, long guestAddress, long size, long hostAddress, MemorySegment memory) {

    /** Whether {@code [address, address + length)} lies inside this region. */
    public boolean contains(long address, long length) {
        return length >= 0 && address >= guestAddress && address - guestAddress <= size - length;
    }

    /** The bytes at guest physical {@code [address, address + length)}. */
    public MemorySegment slice(long address, long length) {
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException("guest range 0x" + Long.toHexString(address) + "+" + length
                    + " is outside region " + index + " [0x" + Long.toHexString(guestAddress) + ", 0x"
                    + Long.toHexString(guestAddress + size) + ")");
        }
        return memory.asSlice(address - guestAddress, length);
    }
}

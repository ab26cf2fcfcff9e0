package dev.thaw.api.snapshot;

/**
 * One memory region as a snapshot file stores it.
 *
 * @param name e.g. {@code ram0}, or QEMU's RAM block id
 * @param guestAddress guest physical start, or -1 when the format does not say
 * @param size bytes
 * @param pageSize bytes per page, a power of two
 * @param presentPages pages whose contents the file holds; the others are zero
 */
public record SnapshotRegion(String name, long guestAddress, long size, int pageSize, long presentPages) {

    public long pages() {
        return size / pageSize;
    }

    public long zeroPages() {
        return pages() - presentPages;
    }
}

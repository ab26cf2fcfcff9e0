package dev.thaw.api.vm;

/**
 * A VM's guest memory in host memory now, as the kernel accounts it ({@code /proc/PID/smaps}). Pages the guest
 * has only read where the snapshot holds zeros take no host memory and count nowhere.
 *
 * @param residentBytes guest memory backed by host pages
 * @param sharedBytes of those, the pages it maps from its fleet's shared page cache: memory other VMs of the
 *     fleet map too, held once for all of them
 * @param ownedBytes of those, the pages it holds alone: every page of a VM that shares nothing, the pages a
 *     fleet member wrote
 * @param proportionalBytes its proportional set size (PSS): its own pages, plus each shared page divided by the
 *     number of mappings that hold it
 */
public record GuestMemoryUse(long residentBytes, long sharedBytes, long ownedBytes, long proportionalBytes) {

    public GuestMemoryUse {
        if (residentBytes < 0 || sharedBytes < 0 || ownedBytes < 0 || proportionalBytes < 0) {
            throw new IllegalArgumentException("memory figures cannot be negative: " + residentBytes + ", " + sharedBytes + ", "
                    + ownedBytes + ", " + proportionalBytes);
        }
    }
}

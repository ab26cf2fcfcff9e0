package dev.thaw.api.restore;

/**
 * Host memory behind one guest memory region, matching the snapshot's region of the same index.
 *
 * @param hostAddress page-aligned start of the mapping
 * @param size bytes, the snapshot region's size
 */
public record HostRegion(long hostAddress, long size) {

    public HostRegion {
        if (hostAddress == 0 || size <= 0) {
            throw new IllegalArgumentException("host region 0x" + Long.toHexString(hostAddress) + "+" + size);
        }
    }
}

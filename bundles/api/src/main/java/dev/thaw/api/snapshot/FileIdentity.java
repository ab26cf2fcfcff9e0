package dev.thaw.api.snapshot;

/**
 * Which file a reader opened and how it was then: enough for someone who holds the same file open to tell
 * later whether it is still that file at its path, and whether its bytes may have changed since.
 *
 * @param device {@code st_dev} of the file
 * @param inode {@code st_ino} of the file
 * @param links its {@code st_nlink} when opened: a name added or removed changes its ctime, not its bytes
 * @param size its size in bytes when opened
 * @param modifiedNanos its {@code st_mtim} when opened, nanoseconds since the epoch (its bytes last changed)
 * @param changedNanos its {@code st_ctim} when opened, nanoseconds since the epoch (its inode last changed)
 */
public record FileIdentity(long device, long inode, long links, long size, long modifiedNanos, long changedNanos) {}

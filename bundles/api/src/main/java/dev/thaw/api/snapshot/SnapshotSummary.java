package dev.thaw.api.snapshot;

/**
 * What writing a snapshot produced.
 *
 * @param apparentSize the file's length
 * @param allocatedSize bytes the file occupies on disk (holes excluded)
 * @param presentPages pages written
 * @param zeroPages all-zero pages left as holes
 * @param nanos time taken
 */
public record SnapshotSummary(long apparentSize, long allocatedSize, long presentPages, long zeroPages, long nanos) {}

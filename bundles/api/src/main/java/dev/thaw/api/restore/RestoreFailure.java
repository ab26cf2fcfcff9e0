package dev.thaw.api.restore;

/**
 * A page the restore could not load; the restore stops serving faults. The page is never filled with
 * zeros: the engine makes it inaccessible, so a vCPU that waits for it gets an error, not wrong data.
 *
 * @param page page number across all regions
 * @param region the region's index
 * @param regionPage the page within its region
 * @param message one line naming the page and the problem
 * @param cause what the snapshot reader (or the kernel) reported
 */
public record RestoreFailure(long page, int region, long regionPage, String message, Throwable cause) {}

package dev.thaw.api.snapshot;

/**
 * One range of guest RAM.
 *
 * @param name e.g. {@code ram0}
 * @param guestAddress guest physical start
 * @param size bytes, a multiple of the page size
 */
public record RegionLayout(String name, long guestAddress, long size) {}

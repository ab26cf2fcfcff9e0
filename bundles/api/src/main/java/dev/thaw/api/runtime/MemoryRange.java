package dev.thaw.api.runtime;

/** A range of guest physical memory: {@code [guestAddress, guestAddress + size)}. */
public record MemoryRange(long guestAddress, long size) {}

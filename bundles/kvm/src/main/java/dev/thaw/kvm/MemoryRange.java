package dev.thaw.kvm;

/** Guest memory a VM is created with: {@code size} bytes at guest physical {@code guestAddress}. */
public record MemoryRange(long guestAddress, long size) {}

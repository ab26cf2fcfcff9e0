package dev.thaw.api.state;

/**
 * A segment register with its hidden descriptor cache ({@code struct kvm_segment}). The one-byte
 * attribute fields are 0 or 1 except {@code type} (4 bits) and {@code dpl} (0 to 3).
 */
public record Segment(
        long base, long limit, int selector, int type,
        int present, int dpl, int db, int s, int l, int g, int avl, int unusable) {}

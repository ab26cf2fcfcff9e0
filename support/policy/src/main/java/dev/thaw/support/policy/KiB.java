package dev.thaw.support.policy;

/** Sizes that policies are configured with in KiB, as the pages a session counts in. */
public final class KiB {

    /** The largest size a policy takes, in KiB (1 TiB). */
    public static final long MAX = 1L << 30;

    private KiB() {}

    /**
     * {@code kib} in pages of {@code pageSize}, at least one.
     *
     * @throws IllegalArgumentException naming the policy and the key, unless {@code kib} is 1 to {@link #MAX}
     */
    public static long pages(String policy, String key, long kib, int pageSize) {
        if (kib < 1 || kib > MAX) {
            throw new IllegalArgumentException(policy + ": " + key + " must be 1 to 2^30 KiB, not " + kib);
        }
        return Math.max(1, kib * 1024 / pageSize);
    }
}

package dev.thaw.emulated.cpu;

import java.util.HashMap;
import java.util.Map;

/** The guest's checksums computed independently (guest/README.md "Workloads and checksums"). */
final class GuestModel {

    private GuestModel() {}

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static long splitmix64(long x) {
        return mix64(x + 0x9e3779b97f4a7c15L);
    }

    /** result fill for one RAM region [0, ramBytes). */
    static long fill(long ramBytes, long seed) {
        long sum = 0;
        for (long p = 0x400000; p + 4096 <= ramBytes; p += 4096) {
            long s = 0;
            for (int j = 0; j < 512; j++) {
                s += splitmix64(seed ^ (p + 8L * j)) * (2L * j + 1);
            }
            sum += mix64(p + s);
        }
        return sum;
    }

    /** result function of the init (invocation 0) keeping {@code pages} pages filled, RAM one region from 0. */
    static long functionInit(long pages, long seed) {
        return fill(0x400000 + pages * 4096, seed); // the same pages, from the start of the page space
    }

    /**
     * result function of invocations 1 to {@code invocations} over a working set of {@code pages} pages that the init
     * filled with the pattern, writing in {@code writePercent} of the pages each reads; RAM one region from 0.
     * {@code written} gets the number of pages each invocation wrote.
     */
    static long[] functionInvocations(int pages, long seed, int writePercent, int invocations, long[] written) {
        Map<Long, Long> changed = new HashMap<>(); // words the invocations wrote; the rest hold the pattern
        long[] results = new long[invocations];
        for (int k = 1; k <= invocations; k++) {
            long key = splitmix64(seed + k * 0x9e3779b97f4a7c15L), acc = key;
            for (long i : permutation(pages, key)) {
                long p = 0x400000 + i * 4096, h = mix64(key ^ p), j0 = h & 127;
                boolean write = Long.remainderUnsigned(h >>> 7, 100) < writePercent;
                written[k - 1] += write ? 1 : 0;
                for (int m = 0; m < 4; m++) {
                    long a = p + 8 * (j0 + 128 * m);
                    long nv = splitmix64(changed.getOrDefault(a, splitmix64(seed ^ a)) ^ acc);
                    acc += nv;
                    if (write) {
                        changed.put(a, nv);
                    }
                }
            }
            results[k - 1] = acc;
        }
        return results;
    }

    /** The permutation of [0, n) keyed by {@code key}, in its order. */
    static long[] permutation(int n, long key) {
        int k = 1;
        while ((1L << k) < n) {
            k++;
        }
        long mask = (1L << k) - 1, shift = (k + 1) / 2;
        long[] rk = new long[4];
        for (int r = 0; r < 4; r++) {
            rk[r] = splitmix64(key + r);
        }
        long[] order = new long[n];
        int next = 0;
        for (long x = 0; x <= mask; x++) {
            long i = x;
            for (int r = 0; r < 4; r++) {
                i = ((i ^ rk[r]) * 0xd6e8feb86659fd93L) & mask;
                i ^= i >>> shift;
            }
            if (i < n) {
                order[next++] = i;
            }
        }
        return order;
    }
}

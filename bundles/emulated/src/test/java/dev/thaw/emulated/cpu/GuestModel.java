package dev.thaw.emulated.cpu;

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
}

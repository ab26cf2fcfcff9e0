package dev.thaw.bench.impl;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The test guest's fill loop: the machine code of {@code fill_page}'s inner loop (guest/src/user.c), which
 * writes {@code pattern(a) = splitmix64(seed ^ a)} into every 8-byte word {@code a} of a range, 18
 * instructions per word. The benchmark runs these bytes only as found in the shipped guest image, so it
 * measures the guest's own code; when a change to the guest compiles the loop differently, it fails
 * saying so, and {@link #CODE} must be updated from the new image.
 */
final class FillLoop {

    /**
     * The loop, position independent (its one branch is relative). Registers: RCX the address being
     * written (from the range's start), R12 the range's end, RSI 0 (the base RCX is added to), R10 the
     * seed, R13 splitmix64's golden gamma, R9 and R8 its two multipliers; RDX and R14 are scratch.
     * It ends with RCX = R12.
     */
    static final byte[] CODE = HexFormat.of().parseHex(
            "4c89d2" // mov rdx, r10
            + "4831ca" // xor rdx, rcx
            + "4c01ea" // add rdx, r13
            + "4989d6" // mov r14, rdx
            + "49c1ee1e" // shr r14, 30
            + "4931d6" // xor r14, rdx
            + "4d0faff1" // imul r14, r9
            + "4c89f2" // mov rdx, r14
            + "48c1ea1b" // shr rdx, 27
            + "4c31f2" // xor rdx, r14
            + "490fafd0" // imul rdx, r8
            + "4989d6" // mov r14, rdx
            + "49c1ee1f" // shr r14, 31
            + "4c31f2" // xor rdx, r14
            + "4889140e" // mov [rsi + rcx], rdx
            + "4883c108" // add rcx, 8
            + "4c39e1" // cmp rcx, r12
            + "75c4"); // jnz back to the start
    static final int INSTRUCTIONS_PER_WORD = 18;
    static final long GOLDEN = 0x9e3779b97f4a7c15L;
    static final long M1 = 0xbf58476d1ce4e5b9L;
    static final long M2 = 0x94d049bb133111ebL;
    static final int RCX = 1, RSI = 6, R8 = 8, R9 = 9, R10 = 10, R12 = 12, R13 = 13;
    /** Where the image is loaded in guest memory (guest/README.md). */
    static final long IMAGE_ADDRESS = 0x100000;
    static final String IMAGE_RESOURCE = "/thaw-guest.bin";

    private FillLoop() {}

    /**
     * The guest address of {@link #CODE} in {@code image} (loaded at {@link #IMAGE_ADDRESS}).
     *
     * @throws IllegalStateException if the image does not contain it
     */
    static long find(byte[] image) {
        for (int i = 0; i + CODE.length <= image.length; i++) {
            if (Arrays.equals(image, i, i + CODE.length, CODE, 0, CODE.length)) {
                return IMAGE_ADDRESS + i;
            }
        }
        throw new IllegalStateException("the shipped guest image no longer contains the fill loop this benchmark runs ("
                + CODE.length + " bytes of fill_page's inner loop, 18 instructions per word): the guest was rebuilt with "
                + "different code; update FillLoop.CODE (bundles/bench) from the new image so the loop stays the guest's own");
    }

    /** The guest image shipped with Thaw (the one VMs boot). */
    static byte[] shippedImage() {
        try (InputStream in = FillLoop.class.getResourceAsStream(IMAGE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bench bundle lacks " + IMAGE_RESOURCE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + IMAGE_RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** The 16 general registers (encoding order) that make the loop fill [{@code from}, {@code to}) for {@code seed}. */
    static long[] registers(long seed, long from, long to, long stack) {
        long[] r = new long[16];
        r[RCX] = from;
        r[R12] = to;
        r[RSI] = 0;
        r[R10] = seed;
        r[R13] = GOLDEN;
        r[R9] = M1;
        r[R8] = M2;
        r[4] = stack;
        return r;
    }

    /** The word the loop writes at {@code address}: splitmix64(seed ^ address), as guest/README.md defines the pattern. */
    static long pattern(long seed, long address) {
        long z = (seed ^ address) + GOLDEN;
        z = (z ^ (z >>> 30)) * M1;
        z = (z ^ (z >>> 27)) * M2;
        return z ^ (z >>> 31);
    }

    /** Zeroes [{@code from}, {@code to}) of {@code memory}, so a run that writes nothing cannot pass {@link #verify}. */
    static void clear(MemorySegment memory, long from, long to) {
        memory.asSlice(from, to - from).fill((byte) 0);
    }

    /**
     * Checks every word of [{@code from}, {@code to}) against the pattern; returns a checksum of the range
     * (the sum of word times address, modulo 2^64).
     *
     * @throws IllegalStateException naming {@code who} and the first wrong word
     */
    static long verify(MemorySegment memory, long from, long to, long seed, String who) {
        long sum = 0;
        for (long a = from; a < to; a += 8) {
            long w = memory.get(ValueLayout.JAVA_LONG, a);
            if (w != pattern(seed, a)) {
                throw new IllegalStateException(who + " computed 0x" + Long.toHexString(w) + " at 0x" + Long.toHexString(a)
                        + ", the fill pattern is 0x" + Long.toHexString(pattern(seed, a)));
            }
            sum += w * a;
        }
        return sum;
    }
}

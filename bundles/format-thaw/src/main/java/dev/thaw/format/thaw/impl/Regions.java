package dev.thaw.format.thaw.impl;

import dev.thaw.api.snapshot.RegionLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The rules a memory region obeys in a Thaw file, shared by writer and reader, and their wording. */
final class Regions {

    private Regions() {}

    /** What is wrong with a region, or null. */
    static String problem(String name, long guestAddress, long size) {
        if (name == null || name.isEmpty()) {
            return "a region needs a name";
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Layout.MAX_NAME_BYTES || name.codePoints().anyMatch(Regions::control)) {
            return "region name '" + escaped(name) + "' is not 1 to " + Layout.MAX_NAME_BYTES
                    + " bytes of UTF-8 without control characters";
        }
        if (size <= 0 || size % Layout.PAGE_SIZE != 0) {
            return "region " + name + " has size " + size + ", not a positive multiple of " + Layout.PAGE_SIZE;
        }
        if (guestAddress < 0 || guestAddress % Layout.PAGE_SIZE != 0 || guestAddress > Long.MAX_VALUE - size) {
            return "region " + name + " is at guest address 0x" + Long.toHexString(guestAddress)
                    + ", not a page-aligned address with room for its " + size + " bytes";
        }
        return null;
    }

    /**
     * NUL, C0 and C1 controls, and Unicode's line and paragraph separators: a name is printed in messages and
     * listings, which one line break in it would split (and a terminal control sequence rewrite).
     */
    private static boolean control(int c) {
        return Character.isISOControl(c) || c == 0x2028 || c == 0x2029;
    }

    /** {@code name} with its control characters as {@code \\uXXXX}, fit for a one-line message. */
    private static String escaped(String name) {
        StringBuilder b = new StringBuilder();
        name.codePoints().forEach(c -> {
            if (control(c)) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }

    /** Which two regions share guest addresses, or null. */
    static String overlap(List<RegionLayout> regions) {
        List<RegionLayout> sorted = new ArrayList<>(regions);
        sorted.sort(Comparator.comparingLong(RegionLayout::guestAddress));
        for (int i = 1; i < sorted.size(); i++) {
            RegionLayout a = sorted.get(i - 1);
            RegionLayout b = sorted.get(i);
            if (b.guestAddress() < a.guestAddress() + a.size()) {
                return "regions " + describe(a) + " and " + describe(b) + " overlap";
            }
        }
        return null;
    }

    /** e.g. {@code ram0 at 0x100000 (256 MiB)}. */
    static String describe(RegionLayout r) {
        return r.name() + " at 0x" + Long.toHexString(r.guestAddress()) + " (" + bytes(r.size()) + ")";
    }

    static String bytes(long n) {
        if (n >= 1L << 30 && n % (1L << 30) == 0) {
            return (n >> 30) + " GiB";
        }
        if (n >= 1L << 20 && n % (1L << 20) == 0) {
            return (n >> 20) + " MiB";
        }
        if (n >= 1L << 10 && n % (1L << 10) == 0) {
            return (n >> 10) + " KiB";
        }
        return n + " bytes";
    }
}

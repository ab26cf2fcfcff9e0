package dev.thaw.format.qemu.impl;

import dev.thaw.samples.impl.PackedSamples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The QEMU-written samples (bundles/samples/qemu/make-files.sh) and the pages its loader devices put into
 * guest RAM: each payload page is 64 lines "MRTEST SET gpa=0x... off=0x..." padded to 64 bytes, so any page
 * can be made again here and compared; a "short" payload is the first 100 bytes of such a page.
 */
final class Samples {

    static final int PAGE = 4096;
    /** Where the offset sample's stream starts (make-files.sh's OFFSET). */
    static final long OFFSET = 4660;

    private Samples() {}

    static Path write(String name, Path dir) {
        return new PackedSamples().write(name, dir);
    }

    /** The payload page make-files.sh loads at guest physical address {@code gpa}. */
    static byte[] page(String set, long gpa) {
        byte[] page = new byte[PAGE];
        for (int off = 0; off < PAGE; off += 64) {
            String line = String.format("MRTEST %s gpa=0x%016x off=0x%03x", set, gpa, off);
            byte[] text = line.getBytes(StandardCharsets.US_ASCII);
            Arrays.fill(page, off, off + 63, (byte) '.');
            System.arraycopy(text, 0, page, off, text.length);
            page[off + 63] = '\n';
        }
        return page;
    }

    static byte[] shortPage(String set, long gpa) {
        byte[] page = new byte[PAGE];
        System.arraycopy(page(set, gpa), 0, page, 0, 100);
        return page;
    }
}

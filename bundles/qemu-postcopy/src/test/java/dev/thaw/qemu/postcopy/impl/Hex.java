package dev.thaw.qemu.postcopy.impl;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Bytes written as docs/qemu-postcopy.md shows them: hex digits, with {@code "text"} for ASCII; spaces ignored.
 * So a test quotes a captured example as the document prints it.
 */
final class Hex {

    private Hex() {}

    static byte[] of(String doc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] parts = doc.split("\"", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i % 2 == 1) {
                out.writeBytes(parts[i].getBytes(StandardCharsets.US_ASCII));
            } else {
                out.writeBytes(HexFormat.of().parseHex(parts[i].replaceAll("\\s", "")));
            }
        }
        return out.toByteArray();
    }

    static byte[] of(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}

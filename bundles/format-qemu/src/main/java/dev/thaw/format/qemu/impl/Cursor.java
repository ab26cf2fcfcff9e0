package dev.thaw.format.qemu.impl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * Reads QEMU's big-endian stream at a position of a file, through a small window. Every read checks that
 * the file holds the bytes: a short file is a {@link BadStream} that says where it ended, never a read of
 * garbage or an allocation sized by an unchecked field.
 */
final class Cursor {

    private static final int WINDOW = 64 << 10;

    private final FileChannel channel;
    private final long size;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
    private long windowStart = -1;
    private long position;

    Cursor(FileChannel channel, long size, long position) {
        this.channel = channel;
        this.size = size;
        this.position = position;
    }

    long position() {
        return position;
    }

    long size() {
        return size;
    }

    void seek(long to) {
        if (to < 0 || to > size) {
            throw new BadStream("the stream continues at byte " + to + ", past the end of the file (" + size + " bytes)");
        }
        position = to;
    }

    /** The next byte without moving past it, or -1 at the end of the file. */
    int peek() {
        if (position >= size) {
            return -1;
        }
        int b = u8("a section type");
        position--;
        return b;
    }

    /**
     * The position of the first {@code pattern} at or after the position and before {@code limit}, or -1.
     * Scans the window's bytes for the pattern's first byte and compares the rest there; the position is left
     * where it was. A window that already holds the bytes is scanned as it is: a caller that resumes the search
     * just past a match it rejected reads nothing again.
     */
    long find(byte[] pattern, long limit) {
        long end = Math.min(limit, size);
        ByteBuffer wanted = ByteBuffer.wrap(pattern);
        for (long base = position; base + pattern.length <= end; ) {
            if (windowStart < 0 || base < windowStart || base + pattern.length > windowStart + window.limit()) {
                fill(base);
            }
            int n = (int) Math.min(window.limit(), end - windowStart); // the window's bytes before the limit
            for (int i = (int) (base - windowStart); i + pattern.length <= n; i++) {
                if (window.get(i) == pattern[0] && window.slice(i, pattern.length).equals(wanted)) {
                    return windowStart + i;
                }
            }
            base = windowStart + n - pattern.length + 1; // a match may start in the last bytes of this window
        }
        return -1;
    }

    int u8(String what) {
        return window(1, what).get() & 0xff;
    }

    int be16(String what) {
        return window(2, what).getShort() & 0xffff;
    }

    long be32(String what) {
        return window(4, what).getInt() & 0xffffffffL;
    }

    long be64(String what) {
        return window(8, what).getLong();
    }

    /** {@code n} bytes; the caller bounds {@code n} (the file must hold them too). */
    byte[] bytes(int n, String what) {
        if (position + n > size) {
            throw new BadStream("the file ends at byte " + size + " in the middle of " + what + " (at byte " + position + ")");
        }
        byte[] b = new byte[n];
        for (int done = 0; done < n; ) {
            int piece = Math.min(WINDOW, n - done);
            window(piece, what).get(b, done, piece);
            done += piece;
        }
        return b;
    }

    /** A name of {@code length} printable ASCII characters (QEMU's ids and idstrs). */
    String name(int length, String what) {
        long at = position;
        byte[] b = bytes(length, what);
        for (byte c : b) {
            if (c < 0x20 || c > 0x7e) {
                throw new BadStream(what + " at byte " + at + " is not printable text");
            }
        }
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** A u8 length and that many characters. */
    String shortName(String what) {
        int length = u8(what + " length");
        if (length == 0) {
            throw new BadStream(what + " at byte " + (position - 1) + " is empty");
        }
        return name(length, what);
    }

    /** Fills {@code into} from byte {@code at} of the file (which must hold them); the position does not move. */
    void read(ByteBuffer into, long at, String what) {
        if (at < 0 || at > size - into.remaining()) {
            throw new BadStream("the file ends at byte " + size + " in the middle of " + what + " (at byte " + at + ")");
        }
        try {
            QemuMappedRamReader.readFully(channel, into, at + into.position());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes {@code [from, to)} of the file as a stream, read as they are asked for; the position does not move. */
    InputStream stream(long from, long to) {
        if (from < 0 || from > to || to > size) {
            throw new BadStream("the bytes " + from + " to " + to + " are not within the file (" + size + " bytes)");
        }
        return new InputStream() {
            private long at = from;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (at == to) {
                    return -1;
                }
                ByteBuffer into = ByteBuffer.wrap(b, off, (int) Math.min(len, to - at));
                int n = channel.read(into, at);
                if (n < 0) {
                    throw new BadStream("the file ends at byte " + at + ", before its stated size");
                }
                at += n;
                return n;
            }
        };
    }

    /** {@code n <= WINDOW} bytes at the position, which moves past them. */
    private ByteBuffer window(int n, String what) {
        if (position + n > size) {
            throw new BadStream("the file ends at byte " + size + " in the middle of " + what + " (at byte " + position + ")");
        }
        if (windowStart < 0 || position < windowStart || position + n > windowStart + window.limit()) {
            fill(position);
        }
        ByteBuffer view = window.slice((int) (position - windowStart), n);
        position += n;
        return view;
    }

    private void fill(long from) {
        window.clear();
        window.limit((int) Math.min(WINDOW, size - from));
        try {
            while (window.hasRemaining()) {
                if (channel.read(window, from + window.position()) < 0) {
                    throw new BadStream("the file ends at byte " + (from + window.position()) + ", before its stated size");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        window.flip();
        windowStart = from;
    }
}

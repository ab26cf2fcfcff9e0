package dev.thaw.qemu.postcopy.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Reads the messages an incoming QEMU sends back on the migration socket (docs/qemu-postcopy.md 9.1):
 * {@code be16 type, be16 len, payload}. Checks each against its fixed length, as QEMU's own source does, and
 * resolves REQ_PAGES to the block the last REQ_PAGES_ID named. One thread reads.
 */
final class ReturnPathReader {

    /** What came back. */
    sealed interface Message permits Shut, Pong, PageRequest {}

    /** The destination is done: 0 when it completed, else it failed. */
    record Shut(int status) implements Message {}

    record Pong(int value) implements Message {}

    /** Bytes {@code [offset, offset + length)} of RAM block {@code block}; {@code nanos} when it was read. */
    record PageRequest(String block, long offset, long length, long nanos) implements Message {}

    /** A message that breaks the protocol: the source cannot go on. */
    static final class ProtocolException extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    private final ReadableByteChannel in;
    private final ByteBuffer header = ByteBuffer.allocate(4);
    private final ByteBuffer body = ByteBuffer.allocate(Protocol.RP_MAX_LENGTH);
    private String lastBlock;

    ReturnPathReader(ReadableByteChannel in) {
        this.in = in;
    }

    /** The next message, or null when the destination closed its end. */
    Message next() throws IOException {
        header.clear();
        if (!fill(header, true)) {
            return null;
        }
        int type = header.getShort(0) & 0xffff;
        int length = header.getShort(2) & 0xffff;
        if (length > Protocol.RP_MAX_LENGTH) {
            throw new ProtocolException("a return-path message of type " + type + " with " + length + " bytes (at most "
                    + Protocol.RP_MAX_LENGTH + ")");
        }
        body.clear().limit(length);
        fill(body, false);
        body.flip();
        return switch (type) {
            case Protocol.RP_SHUT -> new Shut(fixed(type, "SHUT", 4).getInt());
            case Protocol.RP_PONG -> new Pong(fixed(type, "PONG", 4).getInt());
            case Protocol.RP_REQ_PAGES -> {
                ByteBuffer b = fixed(type, "REQ_PAGES", 12);
                if (lastBlock == null) {
                    throw new ProtocolException("REQ_PAGES before any REQ_PAGES_ID named a block");
                }
                yield request(lastBlock, b.getLong(), b.getInt() & 0xffffffffL);
            }
            case Protocol.RP_REQ_PAGES_ID -> {
                if (length < 14 || length != 13 + (body.get(12) & 0xff)) {
                    throw new ProtocolException("REQ_PAGES_ID with " + length + " bytes, not 13 and the block name's");
                }
                long offset = body.getLong();
                long bytes = body.getInt() & 0xffffffffL;
                byte[] name = new byte[body.get() & 0xff];
                body.get(name);
                lastBlock = new String(name, StandardCharsets.US_ASCII);
                yield request(lastBlock, offset, bytes);
            }
            default -> throw new ProtocolException("unexpected return-path message type " + type + " (" + length + " bytes)");
        };
    }

    private ByteBuffer fixed(int type, String name, int length) throws ProtocolException {
        if (body.remaining() != length) {
            throw new ProtocolException(name + " (type " + type + ") with " + body.remaining() + " bytes, not " + length);
        }
        return body;
    }

    private static PageRequest request(String block, long offset, long length) throws ProtocolException {
        if (length == 0 || offset % Protocol.PAGE_SIZE != 0 || length % Protocol.PAGE_SIZE != 0) {
            throw new ProtocolException(String.format("a misaligned page request: 0x%x bytes at 0x%x of RAM block %s",
                    length, offset, block));
        }
        return new PageRequest(block, offset, length, System.nanoTime());
    }

    /** Fills {@code b}; false if the channel ends before its first byte and {@code endOk}. */
    private boolean fill(ByteBuffer b, boolean endOk) throws IOException {
        boolean first = true;
        while (b.hasRemaining()) {
            if (in.read(b) < 0) {
                if (first && endOk) {
                    return false;
                }
                throw new ProtocolException("the return path ends in the middle of a message");
            }
            first = false;
        }
        return true;
    }
}

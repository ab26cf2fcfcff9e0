package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Encodes the records of QEMU's migration stream that a postcopy source sends besides pages
 * (docs/qemu-postcopy.md sections 3 to 6), appending to a buffer that grows as needed. Each method writes one
 * record exactly as QEMU 10 reads it; the order of the records is the caller's ({@link Preamble}).
 */
final class StreamWriter {

    private ByteBuffer out;

    StreamWriter(int initialCapacity) {
        out = ByteBuffer.allocate(Math.max(64, initialCapacity));
    }

    /** The bytes written so far, ready to be sent. */
    ByteBuffer bytes() {
        return out.duplicate().flip();
    }

    int size() {
        return out.position();
    }

    /** "QEVM" and the stream version (3). */
    StreamWriter header() {
        room(8).putInt(MigrationStream.MAGIC).putInt(MigrationStream.VERSION);
        return this;
    }

    /**
     * The configuration section: the machine type, then the {@code configuration/capabilities} subsection when
     * {@code capabilities} is not empty and {@code configuration/uuid} when there is one, in QEMU's order. No footer.
     */
    StreamWriter configuration(String machine, List<String> capabilities, Optional<UUID> uuid) {
        byte[] name = machine.getBytes(StandardCharsets.US_ASCII);
        room(5 + name.length).put((byte) MigrationStream.CONFIGURATION).putInt(name.length).put(name);
        if (!capabilities.isEmpty()) {
            subsection(MigrationStream.CAPABILITIES_SUBSECTION);
            room(4).putInt(capabilities.size());
            for (String c : capabilities) {
                str8(c);
            }
        }
        uuid.ifPresent(u -> {
            subsection(MigrationStream.UUID_SUBSECTION);
            room(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        });
        return this;
    }

    private void subsection(String name) {
        room(1).put((byte) MigrationStream.SUBSECTION);
        str8(name);
        room(4).putInt(Protocol.SUBSECTION_VERSION);
    }

    /** A command: {@code 08 be16 cmd be16 len} and its {@code body}. */
    StreamWriter command(int cmd, ByteBuffer body) {
        int length = body.remaining();
        if (length > 0xffff) {
            throw new IllegalArgumentException("command " + cmd + " with " + length + " bytes (at most 65535)");
        }
        room(5 + length).put((byte) MigrationStream.COMMAND).putShort((short) cmd).putShort((short) length).put(body.duplicate());
        return this;
    }

    StreamWriter command(int cmd) {
        return command(cmd, ByteBuffer.allocate(0));
    }

    StreamWriter openReturnPath() {
        return command(Protocol.CMD_OPEN_RETURN_PATH);
    }

    /** The destination answers with a PONG of {@code value} once it has read this far. */
    StreamWriter ping(int value) {
        return command(Protocol.CMD_PING, ByteBuffer.allocate(4).putInt(value).flip());
    }

    /** POSTCOPY_ADVISE for 4 KiB blocks on a 4 KiB target: the page size summary and the target page size. */
    StreamWriter postcopyAdvise() {
        return command(Protocol.CMD_POSTCOPY_ADVISE, ByteBuffer.allocate(16).putLong(Protocol.PAGE_SIZE)
                .putLong(Protocol.PAGE_SIZE).flip());
    }

    StreamWriter postcopyListen() {
        return command(Protocol.CMD_POSTCOPY_LISTEN);
    }

    StreamWriter postcopyRun() {
        return command(Protocol.CMD_POSTCOPY_RUN);
    }

    /** POSTCOPY_RAM_DISCARD of one byte range of {@code block}: version, name, NUL, start and length. */
    StreamWriter discard(SourceBlock block, long start, long length) {
        byte[] name = block.idstr();
        ByteBuffer body = ByteBuffer.allocate(3 + name.length + 16).put((byte) Protocol.DISCARD_VERSION)
                .put((byte) name.length).put(name).put((byte) 0).putLong(start).putLong(length);
        return command(Protocol.CMD_POSTCOPY_RAM_DISCARD, body.flip());
    }

    /** PACKAGED: its length, then {@code nested} (a stream without header, read whole before it is loaded). */
    StreamWriter packaged(ByteBuffer nested) {
        command(Protocol.CMD_PACKAGED, ByteBuffer.allocate(4).putInt(nested.remaining()).flip());
        room(nested.remaining()).put(nested.duplicate());
        return this;
    }

    /** Bytes copied as they are (the file's device sections). */
    StreamWriter raw(byte[] bytes) {
        room(bytes.length).put(bytes);
        return this;
    }

    /**
     * The RAM section's START in the ordinary (not mapped-ram) form: section header, the total with MEM_SIZE, each
     * block's name and used length, EOS, footer.
     */
    StreamWriter ramStart(long sectionId, List<SourceBlock> blocks) {
        sectionHeader(MigrationStream.SECTION_START, sectionId);
        str8(Protocol.RAM_IDSTR);
        room(8).putInt(0).putInt((int) Protocol.RAM_VERSION);
        long total = blocks.stream().mapToLong(SourceBlock::usedLength).sum();
        room(8).putLong(total | MigrationStream.RAM_MEM_SIZE);
        for (SourceBlock b : blocks) {
            room(1 + b.idstr().length + 8).put((byte) b.idstr().length).put(b.idstr()).putLong(b.usedLength());
        }
        room(8).putLong(MigrationStream.RAM_EOS);
        return footer(sectionId);
    }

    /** The RAM section's END as QEMU sends it in postcopy: EOS only. */
    StreamWriter ramEnd(long sectionId) {
        sectionHeader(MigrationStream.SECTION_END, sectionId);
        room(8).putLong(MigrationStream.RAM_EOS);
        return footer(sectionId);
    }

    StreamWriter eof() {
        room(1).put((byte) MigrationStream.SECTION_EOF);
        return this;
    }

    private void sectionHeader(int type, long sectionId) {
        room(5).put((byte) type).putInt((int) sectionId);
    }

    private StreamWriter footer(long sectionId) {
        room(5).put((byte) MigrationStream.FOOTER).putInt((int) sectionId);
        return this;
    }

    private void str8(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        if (b.length == 0 || b.length > Protocol.MAX_STR8) {
            throw new IllegalArgumentException("'" + text + "' is not 1 to " + Protocol.MAX_STR8 + " bytes");
        }
        room(1 + b.length).put((byte) b.length).put(b);
    }

    private ByteBuffer room(int bytes) {
        if (out.remaining() < bytes) {
            long want = Math.max((long) out.capacity() * 2, (long) out.position() + bytes);
            ByteBuffer bigger = ByteBuffer.allocate(Math.toIntExact(want));
            out.flip();
            bigger.put(out);
            out = bigger;
        }
        return out;
    }
}

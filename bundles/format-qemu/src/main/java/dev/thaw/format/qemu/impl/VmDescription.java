package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.thaw.api.snapshot.SnapshotDevice;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The VMDESCRIPTION section QEMU writes after the stream's end: 0x06, a be32 length, and that much JSON
 * whose {@code devices} list every device section's name, instance and version.
 *
 * <p>The JSON is read as a stream of tokens straight from the file, and its shape is checked as it comes: the
 * root must be an object, {@code devices} a list of objects each with a name, an instance_id and a version,
 * and no more devices than {@link #MAX_DEVICES}. Everything else (each device's field descriptions) is
 * skipped without being kept. Jackson's {@link StreamReadConstraints} bound the rest: nesting, the length of
 * a string, a name or a number, and the tokens in all. So a hostile description costs at most a few
 * buffers and a list of devices, and is refused at the first token that is wrong, not after it was read whole.
 */
final class VmDescription {

    /** Larger than any description QEMU writes (tens of KiB); a length beyond it is corrupt. */
    static final int MAX_BYTES = 16 << 20;
    /** More device sections than a machine has: a vCPU brings four, a 1024-vCPU pc about 4,200. */
    static final int MAX_DEVICES = 16384;
    /** QEMU's idstr is at most 255 bytes (a u8 length in the stream). */
    static final int MAX_NAME = 255;
    /** QEMU nests a device's fields, subsections and structs a few levels deep (about 10 in QEMU 10). */
    static final int MAX_DEPTH = 64;
    /** Field names, type names and values in QEMU's description are short. */
    static final int MAX_STRING = 64 << 10;
    /** A 16 MiB description of the shortest tokens has about 8 M; QEMU's have thousands. */
    static final long MAX_TOKENS = 4L << 20;

    /** Made on first use: a file without a description never pays for Jackson's start-up. */
    private static final class Json {
        static final JsonFactory FACTORY = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxDocumentLength(MAX_BYTES)
                        .maxNestingDepth(MAX_DEPTH)
                        .maxStringLength(MAX_STRING)
                        .maxNameLength(MAX_STRING)
                        .maxNumberLength(32)
                        .maxTokenCount(MAX_TOKENS)
                        .build())
                .build();
    }

    private VmDescription() {}

    /**
     * The devices the description lists, or null when the file has none. {@code atEnd}: the cursor is just
     * after the stream's EOF marker, where the description must start; otherwise it is looked for at the end
     * of the file (the only place whose length can say it is one).
     */
    static List<SnapshotDevice> devices(Cursor in, boolean atEnd) {
        long start = atEnd ? afterEof(in) : findFromEnd(in);
        if (start < 0) {
            return null;
        }
        in.seek(start);
        in.u8("the VMDESCRIPTION section");
        long length = in.be32("the VMDESCRIPTION length");
        if (length > MAX_BYTES || length != in.size() - in.position()) {
            throw new BadStream("the VMDESCRIPTION at byte " + start + " says it is " + length + " bytes long, and "
                    + (in.size() - in.position()) + " bytes follow it");
        }
        long json = in.position();
        try (InputStream bytes = in.stream(json, json + length); JsonParser p = Json.FACTORY.createParser(bytes)) {
            return devices(p, json);
        } catch (StreamConstraintsException e) {
            throw new BadStream("the VMDESCRIPTION JSON at byte " + json + " is beyond this reader's limits: "
                    + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new BadStream("the VMDESCRIPTION JSON at byte " + json + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code devices} of the root object, checked device by device as the tokens come. */
    private static List<SnapshotDevice> devices(JsonParser p, long json) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new BadStream("the VMDESCRIPTION JSON at byte " + json + " has no devices list");
        }
        List<SnapshotDevice> devices = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (!field.equals("devices")) {
                p.skipChildren();
            } else if (value != JsonToken.START_ARRAY || devices != null) {
                throw new BadStream("the VMDESCRIPTION JSON at byte " + json + " has no devices list");
            } else {
                devices = list(p, json);
            }
        }
        if (p.nextToken() != null) {
            throw new BadStream("the VMDESCRIPTION JSON has more after its end, at byte "
                    + (json + p.currentTokenLocation().getByteOffset()));
        }
        if (devices == null) {
            throw new BadStream("the VMDESCRIPTION JSON at byte " + json + " has no devices list");
        }
        return devices;
    }

    private static List<SnapshotDevice> list(JsonParser p, long json) throws IOException {
        List<SnapshotDevice> list = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            long at = json + p.currentTokenLocation().getByteOffset();
            if (list.size() == MAX_DEVICES) {
                throw new BadStream("the VMDESCRIPTION JSON lists more than " + MAX_DEVICES + " devices (device "
                        + list.size() + " is at byte " + at + ")");
            }
            list.add(device(p, t, list.size(), at));
        }
        return list;
    }

    private static SnapshotDevice device(JsonParser p, JsonToken t, int index, long at) throws IOException {
        String name = null;
        Long instance = null;
        Long version = null;
        if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "name" -> name = value == JsonToken.VALUE_STRING && p.getTextLength() <= MAX_NAME ? p.getText() : null;
                    case "instance_id" -> instance = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : null;
                    case "version" -> version = value == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : null;
                    default -> p.skipChildren();
                }
            }
        } else {
            p.skipChildren();
        }
        if (name == null || instance == null || version == null) {
            throw new BadStream("the VMDESCRIPTION JSON lists a device without a name, instance_id and version: device "
                    + index + ", at byte " + at);
        }
        return new SnapshotDevice(name, instance, version);
    }

    private static long afterEof(Cursor in) {
        long at = in.position();
        if (at == in.size()) {
            return -1;
        }
        if (in.peek() != MigrationStream.VMDESCRIPTION) {
            throw new BadStream(String.format("byte %d after the stream's end is 0x%02x, not a VMDESCRIPTION section", at,
                    in.peek()));
        }
        return at;
    }

    /**
     * The position of {@code 00 06 <be32 n>} followed by exactly n bytes to the end of the file, or -1: the
     * last {@link #MAX_BYTES} of the file scanned backwards, 64 KiB at a time.
     */
    private static long findFromEnd(Cursor in) {
        long size = in.size();
        long lowest = Math.max(0, size - MAX_BYTES - 6);
        ByteBuffer piece = ByteBuffer.allocate((64 << 10) + 5);
        for (long end = size - 5; end > lowest; ) { // candidates start in [lowest, end)
            long from = Math.max(lowest, end - (64 << 10));
            piece.clear().limit((int) (end + 5 - from));
            in.read(piece, from, "the end of the file");
            for (int i = (int) (end - from) - 1; i >= 0; i--) {
                if (piece.get(i) == MigrationStream.SECTION_EOF && piece.get(i + 1) == MigrationStream.VMDESCRIPTION
                        && (piece.getInt(i + 2) & 0xffffffffL) == size - (from + i) - 6) {
                    return from + i + 1;
                }
            }
            end = from;
        }
        return -1;
    }
}

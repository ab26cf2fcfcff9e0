package dev.thaw.format.qemu.impl;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.snapshot.SnapshotDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The VMDESCRIPTION section QEMU writes after the stream's end: 0x06, a be32 length, and that much JSON
 * whose {@code devices} list every device section's name, instance and version.
 */
final class VmDescription {

    /** Larger than any description QEMU writes (tens of KiB); a length beyond it is corrupt. */
    static final int MAX_BYTES = 16 << 20;

    /** Made on first use: a file without a description never pays for Jackson's start-up. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
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
        byte[] json = in.bytes((int) length, "the VMDESCRIPTION JSON");
        try {
            return devices(Json.MAPPER.readTree(json));
        } catch (JacksonException e) {
            throw new BadStream("the VMDESCRIPTION JSON at byte " + (start + 5) + " is not valid JSON: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a byte array: not expected
        }
    }

    private static long afterEof(Cursor in) {
        long at = in.position();
        if (at == in.size()) {
            return -1;
        }
        if (in.peek() != StreamParser.VMDESCRIPTION) {
            throw new BadStream(String.format("byte %d after the stream's end is 0x%02x, not a VMDESCRIPTION section", at,
                    in.peek()));
        }
        return at;
    }

    /** The position of {@code 00 06 <be32 n>} followed by exactly n bytes to the end of the file, or -1. */
    private static long findFromEnd(Cursor in) {
        long size = in.size();
        long from = Math.max(0, size - MAX_BYTES - 6);
        in.seek(from);
        ByteBuffer tail = ByteBuffer.wrap(in.bytes((int) (size - from), "the end of the file"));
        for (int i = tail.limit() - 6; i >= 0; i--) {
            if (tail.get(i) == StreamParser.SECTION_EOF && tail.get(i + 1) == StreamParser.VMDESCRIPTION
                    && (tail.getInt(i + 2) & 0xffffffffL) == tail.limit() - i - 6L) {
                return from + i + 1;
            }
        }
        return -1;
    }

    static List<SnapshotDevice> devices(JsonNode root) {
        JsonNode devices = root.path("devices");
        if (!devices.isArray()) {
            throw new BadStream("the VMDESCRIPTION JSON has no devices list");
        }
        List<SnapshotDevice> list = new ArrayList<>();
        for (JsonNode d : devices) {
            JsonNode name = d.path("name");
            if (!name.isTextual() || !d.path("instance_id").canConvertToLong() || !d.path("version").canConvertToLong()) {
                throw new BadStream("the VMDESCRIPTION JSON lists a device without a name, instance_id and version: "
                        + abbreviated(d.toString()));
            }
            list.add(new SnapshotDevice(name.asText(), d.path("instance_id").asLong(), d.path("version").asLong()));
        }
        return list;
    }

    private static String abbreviated(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}

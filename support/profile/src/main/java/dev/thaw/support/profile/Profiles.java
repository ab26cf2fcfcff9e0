package dev.thaw.support.profile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.support.files.IoFailures;
import dev.thaw.support.files.ReplacementFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Working-set profiles of a snapshot (docs/working-set-profile.md): the file's identity, runs made of a
 * first-touch log, the profile written and read. Shared by the restore engine and the QEMU postcopy source.
 */
public final class Profiles {

    public static final String FORMAT = "thaw-working-set";
    public static final int VERSION = 1;
    /** Bytes of the snapshot's head that its identity hashes (with its length). */
    public static final int IDENTITY_HEAD = 4096;

    private Profiles() {}

    /** Made on first use: a restore without a profile file never pays for Jackson's start-up. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** {@code sha256:<hex of SHA-256(first 4 KiB, then the length as 8 little-endian bytes)>}. */
    public static String snapshotId(Path snapshot) {
        try (InputStream in = Files.newInputStream(snapshot)) {
            byte[] head = in.readNBytes(IDENTITY_HEAD);
            long length = Files.size(snapshot);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(head);
            for (int i = 0; i < 8; i++) {
                sha.update((byte) (length >>> (8 * i)));
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new RestoreException(snapshot + ": cannot read to identify it: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Pages in first-touch order merged into runs: a page that extends the previous run joins it. */
    public static List<PageRange> runs(long[] touches, int count) {
        List<PageRange> runs = new ArrayList<>();
        long first = -1;
        long length = 0;
        for (int i = 0; i < count; i++) {
            long p = touches[i];
            if (first >= 0 && p == first + length) {
                length++;
                continue;
            }
            if (first >= 0) {
                runs.add(new PageRange(first, length));
            }
            first = p;
            length = 1;
        }
        if (first >= 0) {
            runs.add(new PageRange(first, length));
        }
        return runs;
    }

    public static void write(Path file, String snapshotId, Path snapshot, int pageSize, long pages, long touches,
            List<PageRange> runs) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        ObjectNode snap = root.putObject("snapshot");
        snap.put("id", snapshotId);
        snap.put("file", String.valueOf(snapshot.getFileName()));
        root.put("pageSize", pageSize);
        root.put("pages", pages);
        root.put("touchedPages", touches);
        ArrayNode array = root.putArray("runs");
        for (PageRange r : runs) {
            array.addArray().add(r.first()).add(r.count());
        }
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent()); // a configured profile folder made on first use
            }
            // Private from creation, never through a link, and each save its own temporary file (see ReplacementFile).
            ReplacementFile.replace(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        } catch (IOException e) {
            throw new RestoreException(file + ": cannot write the working-set profile: " + IoFailures.describe(e), e);
        }
    }

    /**
     * The profile at {@code file} if it exists and belongs to {@code snapshotId}; else empty, with the
     * reason added to {@code warnings} (nothing when the file does not exist).
     */
    public static Optional<WorkingSet> read(Path file, String snapshotId, int pageSize, long pages, List<String> warnings) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode root = Json.MAPPER.readTree(file.toFile());
            if (!FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION) {
                warnings.add(file + ": not a version " + VERSION + " working-set profile; ignored");
                return Optional.empty();
            }
            String id = root.path("snapshot").path("id").asText();
            if (!snapshotId.equals(id)) {
                warnings.add(file + ": recorded on another snapshot (" + oneLine(id) + ", this one is " + snapshotId
                        + "); ignored");
                return Optional.empty();
            }
            if (root.path("pageSize").asInt() != pageSize) {
                warnings.add(file + ": page size " + root.path("pageSize").asInt() + ", snapshot " + pageSize
                        + "; ignored");
                return Optional.empty();
            }
            List<PageRange> runs = new ArrayList<>();
            for (JsonNode run : root.path("runs")) {
                long first = run.path(0).asLong(-1);
                long count = run.path(1).asLong(0);
                if (first < 0 || count < 1 || first >= pages || count > pages - first) { // no first + count: it can overflow
                    warnings.add(file + ": run " + run + " lies outside the " + pages + " pages; ignored");
                    return Optional.empty();
                }
                runs.add(new PageRange(first, count));
            }
            return Optional.of(new WorkingSet(id, runs));
        } catch (IOException | RuntimeException e) {
            String why = e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
            warnings.add(file + ": cannot read the working-set profile: " + oneLine(why) + "; ignored");
            return Optional.empty();
        }
    }

    /** {@code text} with control characters and line separators (NEL, U+2028, U+2029) escaped: for a one-line warning. */
    public static String oneLine(String text) {
        return String.valueOf(text).codePoints()
                .mapToObj(c -> c < 0x20 || c == 0x85 || c == 0x2028 || c == 0x2029 ? "\\u%04x".formatted(c) : Character.toString(c))
                .collect(java.util.stream.Collectors.joining());
    }
}

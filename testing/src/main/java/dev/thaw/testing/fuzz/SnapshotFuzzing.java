package dev.thaw.testing.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a snapshot reader's fuzz target asserts of any file: opened through its {@link SnapshotFormat} as a
 * restore opens it, the file is either read whole (state, origin, every region's pages) or refused with a
 * {@link SnapshotException} whose message is one line naming the file. Any other exception, an assertion
 * here, a hang or an allocation beyond the fork's ceiling is a finding (docs/fuzzing.md).
 */
public final class SnapshotFuzzing {

    /** How an input ended. */
    public enum Outcome { READ, REFUSED }

    /** Pages read per call: runs of present pages, as the eager loader and the lazy restore's loaders read them. */
    static final int RUN_PAGES = 64;
    /** The largest page a region may have: the largest base page Linux has (arm64, ppc64). */
    static final int MAX_PAGE = 64 << 10;
    /** Reused by every input: allocating and clearing it per region would cost more than most inputs. */
    private static final MemorySegment BUFFER = Arena.global().allocate((long) RUN_PAGES * MAX_PAGE, 4096);
    private static final MemorySegment ZEROS = Arena.global().allocate(MAX_PAGE);
    /**
     * Characters a refusal may have besides the path: enough for an excerpt (Jackson quotes up to 1,000 characters
     * of a bad value), not for repeating the file at length.
     */
    static final int MAX_PROBLEM = 2048;
    private static final byte FILL = 0x5a;
    private static final Pattern LINE_BREAK = Pattern.compile("\\R");

    private SnapshotFuzzing() {}

    /** Opens {@code file} and reads all it holds; returns whether it was read or refused as the contract says. */
    public static Outcome openAndReadAll(SnapshotFormat format, Path file) {
        try (SnapshotReader reader = format.open(file)) {
            readAll(reader);
            return Outcome.READ;
        } catch (SnapshotException e) {
            assertRefusal(file, e);
            return Outcome.REFUSED;
        }
    }

    /** The message is one line, led by the file's path, that does not repeat the file at length. */
    public static void assertRefusal(Path file, SnapshotException e) {
        String message = e.getMessage();
        assertTrue(message.startsWith(file + ": "), () -> "the refusal names the file: " + message);
        assertTrue(oneLine(message), () -> "the refusal is one line: " + message);
        int problem = message.length() - (file + ": ").length();
        assertTrue(problem <= MAX_PROBLEM, () -> "the refusal's problem is " + problem + " characters long: "
                + message.substring(0, MAX_PROBLEM) + "...");
    }

    /** No line break of any kind ({@code \\R}: LF, CR, VT, FF, NEL, U+2028, U+2029). */
    public static boolean oneLine(String text) {
        return !LINE_BREAK.matcher(text).find();
    }

    /**
     * Reads what a restore reads: the state and origin, then per region its first pages in one call (present
     * and absent together, as {@code thaw:inspect --sha256} reads chunks; absent pages must come back as
     * zeros), then every present page in runs (as the eager loader does), counting them against the region.
     */
    private static void readAll(SnapshotReader reader) {
        reader.state();
        reader.origin();
        List<SnapshotRegion> regions = reader.regions();
        for (int r = 0; r < regions.size(); r++) {
            SnapshotRegion region = regions.get(r);
            int pageSize = region.pageSize();
            if (pageSize <= 0 || pageSize > MAX_PAGE || Integer.bitCount(pageSize) != 1) {
                fail("region " + r + " has " + pageSize + "-byte pages");
            }
            long pages = region.pages();
            MemorySegment buffer = BUFFER.asSlice(0, RUN_PAGES * pageSize);
            long first = Math.min(pages, RUN_PAGES);
            buffer.fill(FILL);
            reader.readPages(r, 0, first, buffer.asSlice(0, first * pageSize));
            for (long p = 0; p < first; p++) {
                if (!reader.isPresent(r, p)) {
                    long at = MemorySegment.mismatch(buffer, p * pageSize, (p + 1) * pageSize, ZEROS, 0, pageSize);
                    assertEquals(-1L, at, "absent page " + p + " of region " + r + " reads as zeros");
                }
            }

            long present = 0;
            for (long page = 0; page < pages; ) {
                if (!reader.isPresent(r, page)) {
                    page++;
                    continue;
                }
                long run = 1;
                while (page + run < pages && run < RUN_PAGES && reader.isPresent(r, page + run)) {
                    run++;
                }
                reader.readPages(r, page, run, buffer.asSlice(0, run * pageSize));
                present += run;
                page += run;
            }
            assertEquals(region.presentPages(), present, "present pages of region " + r);
        }
    }
}

package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.thaw.impl.Snapshots.Entry;
import dev.thaw.format.thaw.impl.Snapshots.Memory;
import dev.thaw.format.thaw.impl.Snapshots.Parsed;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 seeded single-byte changes and truncations of a small valid file: opening and reading everything
 * either gives exactly the original content (the change hit padding or a hole) or a SnapshotException;
 * never another exception, never a hang, never wrong bytes.
 */
@Timeout(60)
class ThawSnapshotMutationTest {

    private static final int MUTATIONS = 200;

    @TempDir
    Path dir;

    final ThawSnapshotFormat format = new ThawSnapshotFormat();

    private enum Outcome { SAME_CONTENT, FAILED_AT_OPEN, FAILED_AT_READ }

    @Test
    void everyMutationIsHarmlessOrDetected() throws Exception {
        Path original = dir.resolve("original.thaw");
        Path work = dir.resolve("work.thaw");
        try (Arena arena = Arena.ofShared()) {
            Memory memory = Snapshots.memory(arena, 42, Snapshots.twoRegions(256 << 10, 128 << 10));
            new ThawSnapshotWriter().write(original, Snapshots.state(42, memory.layouts()), memory.regions(), Progress.NONE);
            Parsed parsed = Snapshots.parse(original);
            long length = Files.size(original);
            Files.copy(original, work);
            Random r = new Random(20251126);
            Map<String, Integer> outcomes = new TreeMap<>();
            for (int n = 0; n < MUTATIONS; n++) {
                int kind = r.nextInt(10);
                String what;
                Outcome outcome;
                if (kind < 2) {
                    long to = r.nextLong(length);
                    what = "truncated to " + to;
                    Snapshots.truncate(work, to);
                    outcome = openAndReadAll(work, memory, what);
                    assertNotEquals(Outcome.SAME_CONTENT, outcome, what);
                    Files.copy(original, work, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    long at;
                    boolean inPresentPage = false;
                    if (kind < 6) {
                        at = r.nextLong(parsed.metadataEnd());
                    } else if (kind < 9) {
                        at = presentPageByte(parsed, memory, r);
                        inPresentPage = true;
                    } else {
                        at = r.nextLong(length);
                    }
                    byte xor = (byte) (1 + r.nextInt(255));
                    what = "byte " + at + " xor 0x" + Integer.toHexString(xor & 0xff);
                    byte old = Snapshots.read(work, at, 1).get(0);
                    Snapshots.write(work, at, java.nio.ByteBuffer.wrap(new byte[] {(byte) (old ^ xor)}));
                    outcome = openAndReadAll(work, memory, what);
                    if (inPresentPage) {
                        assertEquals(Outcome.FAILED_AT_READ, outcome, what + " (in a present page)");
                    }
                    Snapshots.write(work, at, java.nio.ByteBuffer.wrap(new byte[] {old}));
                }
                outcomes.merge((kind < 2 ? "truncation" : kind < 6 ? "metadata" : kind < 9 ? "present page" : "anywhere")
                        + " -> " + outcome, 1, Integer::sum);
            }
            System.out.println("mutations: " + outcomes);
        }
    }

    /** A byte inside a page the file holds. */
    private static long presentPageByte(Parsed parsed, Memory memory, Random r) {
        while (true) {
            int region = r.nextInt(parsed.entries().size());
            Entry e = parsed.entries().get(region);
            long page = r.nextLong(e.pages());
            if (!FileIo.isZeroPage(memory.regions().get(region).memory(), page * 4096)) {
                return e.pagesOffset() + page * 4096 + r.nextInt(4096);
            }
        }
    }

    private Outcome openAndReadAll(Path file, Memory memory, String what) {
        SnapshotReader reader;
        try {
            reader = format.open(file);
        } catch (SnapshotException e) {
            Snapshots.assertOneLine(file, e);
            return Outcome.FAILED_AT_OPEN;
        } catch (Throwable t) {
            throw new AssertionError(what + ": open threw " + t, t);
        }
        try (reader) {
            Snapshots.assertSameContent(reader, memory);
            return Outcome.SAME_CONTENT;
        } catch (SnapshotException e) {
            Snapshots.assertOneLine(file, e);
            return Outcome.FAILED_AT_READ;
        } catch (AssertionError e) {
            return fail(what + ": read wrong bytes: " + e.getMessage(), e);
        } catch (Throwable t) {
            throw new AssertionError(what + ": read threw " + t, t);
        }
    }
}

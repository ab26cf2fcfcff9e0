package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.policy.hotpagefirst.impl.HotPageFirstPolicy;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.support.profile.Profiles;
import dev.thaw.testing.ConfigProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A serve's working-set profiles against a decoding destination (a file QEMU 10 wrote, pc with 32 MiB): saved
 * when asked, the requests until then and none after; one that cannot be read or was recorded on another
 * snapshot ignored with one line naming it, and so is one that cannot be written at the end.
 */
class ServeProfileWireTest {

    @TempDir
    Path dir;

    @Test
    void aProfileSavedWhenAskedHoldsTheRequestsUntilThenAndNoneAfter() throws Exception {
        Path profile = dir.resolve("asked.profile.json");
        AtomicReference<PostcopySource> running = new AtomicReference<>();
        AtomicReference<Path> savedAt = new AtomicReference<>();
        RecordingDestination.Script script = new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return RecordingDestination.request("pc.ram", 0x100);
            }

            @Override
            public byte[] afterPage(RecordingDestination d, PageRecord r) {
                if (!r.block().equals("pc.ram")) {
                    return new byte[0];
                }
                if (r.page() == 0x100) {
                    return RecordingDestination.request("pc.ram", 0x50);
                }
                if (r.page() == 0x50) {
                    savedAt.set(running.get().saveProfile());
                    return RecordingDestination.request("pc.ram", 0x200); // after the save: not in the profile
                }
                if (r.page() == 0x200) {
                    running.get().loadRemaining();
                }
                return new byte[0];
            }
        };
        try (WireFixture wire = WireFixture.of(dir, script)) {
            MigrationFile mf = wire.file;
            ServeProfile recording = new ServeProfile(wire.sample, mf.pages(), null, profile);
            try (PostcopySource source = PostcopySource.start(mf, wire.destination.connect(), "test", sequential(),
                    Map.of("background", false, "faultChunkKiB", 4), recording, false)) {
                running.set(source);
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertEquals(profile, savedAt.get());
                assertEquals(Optional.of(profile), source.savedProfile());
                IllegalStateException again = assertThrows(IllegalStateException.class, source::saveProfile);
                assertTrue(again.getMessage().contains("any more"), again.getMessage());
            }
            assertEquals(List.of(new PageRange(0x100, 1), new PageRange(0x50, 1)), read(profile, wire).runs(),
                    "the completion did not write it again with the later request");
        }
    }

    /**
     * Preloading: the profile's pages, zero pages among them, go before the package in address order (the guest waits
     * for all of them alike), each once; nothing else goes before it, and every other page follows it. Without
     * preloading, no page goes before it.
     */
    @Test
    void aPreloadedProfilesPagesGoBeforeTheDeviceStateAndNothingElseDoes() throws Exception {
        for (boolean preload : new boolean[] {true, false}) {
            Path folder = Files.createDirectories(dir.resolve("preload-" + preload));
            try (WireFixture wire = WireFixture.of(folder, new RecordingDestination.Script() {})) {
                long zero = firstZeroPage(wire.file);
                List<PageRange> runs = List.of(new PageRange(0x300, 3), new PageRange(zero, 1), new PageRange(0x40, 2));
                Path profile = folder.resolve("p.profile.json");
                Profiles.write(profile, Profiles.snapshotId(wire.sample), wire.sample, Protocol.PAGE_SIZE, wire.file.pages(), 6, runs);
                try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test", sequential(),
                        Map.of(), new ServeProfile(wire.sample, wire.file.pages(), profile, null),
                        new SourceOptions(false, preload, false, 1))) {
                    source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                }
                List<Long> sent = wire.destination.records().stream().map(wire::pageOf).toList();
                int ahead = wire.destination.recordsBeforePackage();
                List<Long> expected = preload ? Stream.of(0x300L, 0x301L, 0x302L, zero, 0x40L, 0x41L).sorted().toList() : List.<Long>of();
                assertEquals(expected, sent.subList(0, ahead), "before the package");
                assertEquals(sent.size(), Set.copyOf(sent).size(), "each page once");
                assertTrue(sent.subList(ahead, sent.size()).containsAll(presentPages(wire.file).stream()
                        .filter(p -> !expected.contains(p)).toList()), "every other present page after it");
            }
        }
    }

    /** A held background: only what the destination asks for goes, until the background is started; then the rest. */
    @Test
    void aHeldBackgroundSendsOnlyRequestedPagesUntilItIsStarted() throws Exception {
        AtomicReference<PostcopySource> running = new AtomicReference<>();
        List<Integer> recordsAtStart = new ArrayList<>();
        RecordingDestination.Script script = new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return RecordingDestination.request("pc.ram", 0x100);
            }

            @Override
            public byte[] afterPage(RecordingDestination d, PageRecord r) {
                if (r.block().equals("pc.ram") && r.page() == 0x100 && recordsAtStart.isEmpty()) {
                    recordsAtStart.add(d.records().size());
                    running.get().startBackground();
                }
                return new byte[0];
            }
        };
        try (WireFixture wire = WireFixture.of(dir, script)) {
            try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test", sequential(), Map.of(),
                    ServeProfile.none(wire.file), new SourceOptions(false, false, true, 1))) {
                running.set(source);
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            assertEquals(List.of(1), recordsAtStart, "nothing but the requested page before the background started");
            assertEquals(wire.file.pages(), wire.destination.records().size(), "then every page");
        }
    }

    private static long firstZeroPage(MigrationFile file) {
        for (long p = 0; p < file.pages(); p++) {
            if (!file.present(p)) {
                return p;
            }
        }
        throw new AssertionError("the sample has no zero page");
    }

    private static List<Long> presentPages(MigrationFile file) {
        List<Long> present = new ArrayList<>();
        for (long p = 0; p < file.pages(); p++) {
            if (file.present(p)) {
                present.add(p);
            }
        }
        return present;
    }

    @Test
    void aServeThatRecordsNothingHasNoProfileToSave() throws Exception {
        try (WireFixture wire = WireFixture.of(dir, new RecordingDestination.Script() {})) {
            try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test", sequential(),
                    Map.of())) {
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertThrows(IllegalStateException.class, source::saveProfile);
                assertEquals(Optional.empty(), source.savedProfile());
            }
        }
    }

    @Test
    void aProfileThatCannotBeReadIsIgnoredWithOneLineNamingItAndThePagesGoInAddressOrder() throws Exception {
        Path damaged = dir.resolve("damaged.profile.json");
        Files.writeString(damaged, "{\"format\": \"thaw-working-set\", \"runs\": [[1,", StandardCharsets.UTF_8);
        List<String> warnings = serveReading(damaged);
        assertEquals(1, warnings.size(), warnings.toString());
        assertOneLine(warnings.getFirst(), damaged + ": ");
    }

    @Test
    void aProfileOfAnotherSnapshotIsIgnoredWithOneLineNamingIt() throws Exception {
        Path foreign = dir.resolve("foreign.profile.json");
        Profiles.write(foreign, "sha256:" + "0".repeat(64), Path.of("other.mr"), Protocol.PAGE_SIZE, 9314, 1,
                List.of(new PageRange(0x1000, 1)));
        List<String> warnings = serveReading(foreign);
        assertEquals(1, warnings.size(), warnings.toString());
        assertOneLine(warnings.getFirst(), foreign + ": recorded on another snapshot");
    }

    @Test
    void aProfileThatCannotBeWrittenAtTheEndIsAWarningNamingItNotAFailedServe() throws Exception {
        Path notAFolder = Files.writeString(dir.resolve("plain-file"), "x");
        Path profile = notAFolder.resolve("p.profile.json");
        try (WireFixture wire = WireFixture.of(dir, new RecordingDestination.Script() {})) {
            try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test", sequential(),
                    Map.of(), new ServeProfile(wire.sample, wire.file.pages(), null, profile), false)) {
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertEquals(1, source.warnings().size(), source.warnings().toString());
                assertOneLine(source.warnings().getFirst(), profile + ": cannot write the working-set profile");
                assertEquals(Optional.empty(), source.savedProfile());
            }
        }
    }

    /** Serves the sample with hot-page-first reading {@code profile}; its warnings. Pages went in address order. */
    private List<String> serveReading(Path profile) throws Exception {
        try (WireFixture wire = WireFixture.of(dir, new RecordingDestination.Script() {})) {
            List<String> warnings;
            try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test",
                    new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class)), Map.of(),
                    new ServeProfile(wire.sample, wire.file.pages(), profile, null), false)) {
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                warnings = source.warnings();
            }
            List<Long> sent = wire.destination.records().stream().map(wire::pageOf).toList();
            assertEquals(List.of(0L, 1L, 2L, 3L), sent.subList(0, 4), "no working set: address order");
            return warnings;
        }
    }

    private static WorkingSet read(Path profile, WireFixture wire) {
        List<String> warnings = new ArrayList<>();
        Optional<WorkingSet> ws = Profiles.read(profile, Profiles.snapshotId(wire.sample), Protocol.PAGE_SIZE,
                wire.file.pages(), warnings);
        assertEquals(List.of(), warnings);
        return ws.orElseThrow();
    }

    private static void assertOneLine(String line, String start) {
        assertTrue(line.startsWith(start), line);
        assertFalse(line.contains("\n"), line);
    }

    private static PagePolicy sequential() {
        return new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
    }
}

package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PageRange;
import dev.thaw.policy.hotpagefirst.impl.HotPageFirstPolicy;
import dev.thaw.support.profile.Profiles;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.testing.ConfigProxy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A serve that reads the file on several threads sends what one thread sends: every page once, each with the
 * file's bytes (a file QEMU 10 wrote, pc with 32 MiB), and its reader threads are gone once it has ended. The order
 * is hot-page-first's with a profile of scattered one-page runs, so that each batch is many runs the readers share.
 */
class PageReadersWireTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void everyPageGoesOnceWithTheFilesBytesWhateverTheReaders(int readers) throws Exception {
        try (WireFixture wire = WireFixture.of(dir, new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return RecordingDestination.request("pc.ram", 0x123); // a request among the background parts
            }
        })) {
            Path profile = dir.resolve("scattered.profile.json");
            List<PageRange> runs = new ArrayList<>();
            for (long p = 0; p < wire.file.pages() && runs.size() < 2000; p += 2) {
                if (wire.file.present(p)) {
                    runs.add(new PageRange(p, 1));
                }
            }
            Profiles.write(profile, Profiles.snapshotId(wire.sample), wire.sample, Protocol.PAGE_SIZE, wire.file.pages(),
                    runs.size(), runs);
            try (PostcopySource source = PostcopySource.start(wire.file, wire.destination.connect(), "test",
                    new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class)), Map.of(),
                    new ServeProfile(wire.sample, wire.file.pages(), profile, null), new SourceOptions(false, false, false, readers))) {
                source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            List<PageRecord> records = wire.destination.records();
            assertEquals(wire.file.pages(), records.size(), "every page");
            Set<Long> seen = new HashSet<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment page = arena.allocate(Protocol.PAGE_SIZE);
                for (PageRecord r : records) {
                    long p = wire.pageOf(r);
                    assertTrue(seen.add(p), "page " + p + " twice");
                    if (wire.file.present(p)) {
                        wire.file.read(p, 1, page);
                        assertArrayEquals(page.toArray(ValueLayout.JAVA_BYTE), r.data(), "page " + p);
                    } else {
                        assertEquals(null, r.data(), "page " + p + " is a ZERO record");
                    }
                }
            }
        }
        assertEquals(List.of(), Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                .filter(n -> n.startsWith("thaw-postcopy-reader-")).toList(), "reader threads left");
    }
}

package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Snapshots.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thaw.api.snapshot.DeviceState;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.thaw.impl.Layout.Header;
import dev.thaw.format.thaw.impl.Layout.Placement;
import dev.thaw.format.thaw.impl.Layout.Plan;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import dev.thaw.testing.ProcessResources;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Thaw file's state JSON is bounded by what a machine has (issue 12, item 6): a CRC32C proves the state
 * arrived intact, not that a sane writer made it. A state of 8.7 M devices was accepted after 31 s and about
 * 6 GB; now every list, string and nesting is bounded while the JSON streams past, and a state beyond a
 * bound is refused at the first token past it, in one line, having allocated little more than its bytes.
 * The writer refuses what the reader would.
 */
@Timeout(60)
class ThawStateLimitsTest {

    static final List<RegionLayout> ONE_REGION = List.of(new RegionLayout("ram0", 0, 1 << 20));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    final ThawSnapshotFormat format = new ThawSnapshotFormat();

    // ---- a file whose state is beyond a machine ----

    @Test
    void aStateOfHundredsOfThousandsOfDevicesIsRefusedAtTheFirstDeviceTooMany() throws Exception {
        byte[] json = state(s -> {
            ArrayNode devices = ((ObjectNode) s).putArray("devices");
            for (int i = 0; i < 300_000; i++) {
                devices.addObject().put("type", "uart16550").putObject("state").put("ier", i);
            }
        });
        Path file = fileWithState("devices.thaw", json);
        format.open(good()).close(); // class loading and Jackson's start-up are not what is measured
        long allocated = allocatedBy(() -> assertProblem(file, "state JSON is beyond what a machine has: devices has more than "
                + StateLimits.MAX_DEVICES + " entries", () -> format.open(file)));
        assertTrue(allocated < json.length + (16L << 20), "refusing " + json.length + " bytes of state allocated " + allocated);
    }

    @Test
    void everyListOfTheStateIsBounded() throws Exception {
        assertBeyond("vcpus has more than 1024 entries", s -> repeat((ArrayNode) s.get("vcpus"), 1100));
        assertBeyond("vcpus[1].msrs has more than 1024 entries",
                s -> repeat((ArrayNode) s.get("vcpus").get(1).get("msrs"), 2000));
        assertBeyond("vcpus[0].cpuid has more than 256 entries", s -> repeat((ArrayNode) s.get("vcpus").get(0).get("cpuid"), 300));
        assertBeyond("memory has more than 1024 entries", s -> repeat((ArrayNode) s.get("memory"), 1100));
        assertBeyond("vm.ioapic.redirectionTable has more than 24 entries",
                s -> repeat((ArrayNode) s.get("vm").get("ioapic").get("redirectionTable"), 100_000));
        assertBeyond("devices[0].state.rx has more than 65536 entries",
                s -> repeat(((ObjectNode) s.get("devices").get(0).get("state")).putArray("rx").add(1), 70_000));
        assertBeyond("devices[1].state has more than 1024 fields", s -> {
            ObjectNode state = (ObjectNode) s.get("devices").get(1).get("state");
            for (int i = 0; i < 1100; i++) {
                state.put("f" + i, i);
            }
        });
    }

    @Test
    void stringsAndNestingAreBounded() throws Exception {
        assertBeyond("session.consoleText is longer than " + StateLimits.MAX_CONSOLE_CHARS + " characters",
                s -> ((ObjectNode) s.get("session")).put("consoleText", "x".repeat(StateLimits.MAX_CONSOLE_CHARS + 1)));
        assertBeyond("devices[0].state.queue is longer than " + StateLimits.MAX_STRING + " characters",
                s -> ((ObjectNode) s.get("devices").get(0).get("state")).put("queue", "q".repeat(StateLimits.MAX_STRING + 1)));
        assertBeyond("guest.name is longer than " + StateLimits.MAX_STRING + " characters",
                s -> ((ObjectNode) s.get("guest")).put("name", "g".repeat(StateLimits.MAX_STRING + 1)));
        byte[] deep = state(s -> {
            ObjectNode at = (ObjectNode) s.get("devices").get(0).get("state");
            for (int i = 0; i < 40; i++) {
                at = at.putObject("n");
            }
        });
        SnapshotException e = assertThrows(SnapshotException.class, () -> format.open(fileWithState("deep.thaw", deep)));
        assertTrue(e.getMessage().contains(": state JSON is beyond what a machine has: ") && e.getMessage().contains("depth"),
                e.getMessage());
        // What a machine does have still reads: the console's whole retained text (1 MiB), a UART's host queue.
        byte[] full = state(s -> {
            ((ObjectNode) s.get("session")).put("consoleText", "c".repeat(1 << 20));
            ((ObjectNode) s.get("devices").get(0).get("state")).put("queue", "q".repeat(88 << 10));
        });
        try (SnapshotReader r = format.open(fileWithState("full.thaw", full))) {
            assertEquals(1 << 20, r.state().orElseThrow().session().consoleText().length());
        }
    }

    @Test
    void duplicateKeysAreRefused() throws Exception {
        String json = new String(state(s -> {}), StandardCharsets.UTF_8);
        String twice = json.replaceFirst("\\{\"guest\":", "{\"runtime\":\"emulated\",\"guest\":");
        assertTrue(twice.length() > json.length());
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> format.open(fileWithState("twice.thaw", twice.getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains(": state JSON does not parse: Duplicate field 'runtime'"), e.getMessage());
    }

    @Test
    void aStateLengthBeyondWhatAMachineNeedsIsRefusedBeforeItIsRead() throws Exception {
        Path file = good();
        Snapshots.patchHeader(file, h -> h.putLong(Layout.H_STATE_LENGTH, 100L << 20));
        assertProblem(file, "state length 104857600 is out of range (1 to " + Layout.MAX_STATE_BYTES + ")",
                () -> format.open(file));
        assertEquals(64L << 20, Layout.MAX_STATE_BYTES);
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void noRefusalLeavesAFileOpen() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        List<Path> refused = List.of(fifo, Path.of("/dev/zero"), dir,
                fileWithState("devices.thaw", state(s -> repeat((ArrayNode) s.get("devices"), 300))),
                fileWithState("console.thaw", state(s -> ((ObjectNode) s.get("session")).put("consoleText",
                        "x".repeat(StateLimits.MAX_CONSOLE_CHARS + 1)))),
                fileWithState("deep.thaw", state(s -> {
                    ObjectNode at = (ObjectNode) s.get("devices").get(0).get("state");
                    for (int i = 0; i < 40; i++) {
                        at = at.putObject("n");
                    }
                })));
        for (Path file : refused) { // warm up: whatever class loading opens stays open
            assertThrows(SnapshotException.class, () -> format.open(file));
        }
        long before = ProcessResources.fds().size();
        for (int i = 0; i < 20; i++) {
            for (Path file : refused) {
                assertThrows(SnapshotException.class, () -> format.open(file));
            }
        }
        assertEquals(before, ProcessResources.fds().size(), "open file descriptors");
    }

    // ---- the writer ----

    @Test
    void theWriterRefusesAStateTheReaderWouldRefuse() throws Exception {
        MachineState good = Snapshots.state(8, ONE_REGION);
        List<DeviceState> devices = new ArrayList<>();
        for (int i = 0; i <= StateLimits.MAX_DEVICES; i++) {
            devices.add(new DeviceState("device" + i, Map.of()));
        }
        MachineState many = new MachineState(good.guest(), good.boot(), good.memory(), good.vm(), good.vcpus(), devices,
                good.session(), good.runtime());
        Path out = dir.resolve("many.thaw");
        try (Arena arena = Arena.ofConfined()) {
            Snapshots.Memory memory = Snapshots.memory(arena, 8, ONE_REGION);
            assertProblem(out, "cannot write the state: it is beyond what a machine has: devices has more than "
                    + StateLimits.MAX_DEVICES + " entries", () -> new ThawSnapshotWriter().write(out, many, memory.regions(),
                    Progress.NONE));
        }
        assertTrue(Files.notExists(out));
    }

    // ---- the cache of parsed states ----

    @Test
    void theStateCacheKeepsOnlySmallStatesAndAFewMebibytesOfThem() throws Exception {
        StateCache cache = new StateCache();
        byte[] large = state(s -> ((ObjectNode) s.get("session")).put("consoleText", "c".repeat(StateCache.MAX_ENTRY_BYTES)));
        MachineState parsed = cache.parse(large);
        assertNotSame(parsed, cache.parse(large), "a state larger than " + StateCache.MAX_ENTRY_BYTES + " bytes is not kept");
        for (int i = 0; i < 3 * StateCache.MAX_ENTRIES; i++) {
            int n = i;
            cache.parse(state(s -> ((ObjectNode) s.get("session")).put("consoleText", n + "c".repeat(StateCache.MAX_ENTRY_BYTES
                    - 20_000))));
            assertTrue(cache.heldBytes() <= StateCache.MAX_HELD_BYTES, cache.heldBytes() + " bytes held");
        }
        byte[] small = state(s -> {});
        assertSame(cache.parse(small), cache.parse(small.clone()), "a small state is kept");
    }

    // ---- helpers ----

    private void assertBeyond(String problem, Consumer<JsonNode> change) throws IOException {
        Path file = fileWithState("beyond.thaw", state(change));
        assertProblem(file, "state JSON is beyond what a machine has: " + problem, () -> format.open(file));
        Files.delete(file);
    }

    /** A valid state's JSON, changed by {@code change} on its tree. */
    private static byte[] state(Consumer<JsonNode> change) throws IOException {
        JsonNode tree = JSON.readTree(StateJson.write(Snapshots.state(7, ONE_REGION)));
        change.accept(tree);
        return JSON.writeValueAsBytes(tree);
    }

    /** Appends copies of the list's first element until it has {@code size} entries. */
    private static void repeat(ArrayNode list, int size) {
        JsonNode first = list.get(0);
        while (list.size() < size) {
            list.add(first.deepCopy());
        }
    }

    private Path good() throws IOException {
        Path file = dir.resolve("good.thaw");
        Files.deleteIfExists(file);
        Files.copy(fileWithState("good-source.thaw", state(s -> {})), file);
        return file;
    }

    /**
     * A valid file of {@link #ONE_REGION} with no page present and {@code json} as its state, whatever it says:
     * made here, as the writer places sections, since the writer refuses such states.
     */
    private Path fileWithState(String name, byte[] json) throws IOException {
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        Plan plan = Layout.plan(ONE_REGION, json.length);
        ByteBuffer table = ByteBuffer.allocate(ONE_REGION.size() * Layout.REGION_ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < ONE_REGION.size(); i++) {
            RegionLayout r = ONE_REGION.get(i);
            Placement p = plan.regions().get(i);
            long pages = r.size() / Layout.PAGE_SIZE;
            new RegionEntry(r.name(), r.guestAddress(), r.size(), p.pagesOffset(), 0, p.bitmapOffset(), p.checksumsOffset(),
                    zerosCrc(Layout.bitmapLength(pages)), zerosCrc(Layout.checksumsLength(pages))).encode(table, i);
        }
        Header h = new Header(Layout.VERSION, Layout.HEADER_SIZE, Layout.PAGE_SIZE, 0, plan.fileLength(),
                plan.regionTableOffset(), ONE_REGION.size(), Layout.REGION_ENTRY_SIZE,
                Layout.crc32c(table.array(), 0, table.capacity()), Layout.crc32c(json, 0, json.length), plan.stateOffset(),
                json.length);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(plan.fileLength()); // bitmaps, checksum tables and pages: zeros
            f.seek(0);
            f.write(h.encode());
            f.seek(plan.regionTableOffset());
            f.write(table.array());
            f.seek(plan.stateOffset());
            f.write(json);
        }
        return file;
    }

    private static int zerosCrc(long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(length);
            return FileIo.crc32c(zeros);
        }
    }

    /** Heap bytes the calling thread allocates while {@code action} runs. */
    private static long allocatedBy(Supplier<?> action) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        action.get();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}

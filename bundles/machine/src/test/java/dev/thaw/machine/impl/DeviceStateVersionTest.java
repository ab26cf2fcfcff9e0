package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.Workload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Device states carry their version: a snapshot records each device's, a state newer than its device is
 * refused in one line naming the device and both versions, and a snapshot written before states had
 * versions (nor TSC rates) restores its devices as version 1 and continues exactly.
 */
@ParameterizedClass(name = "on {0}")
@MethodSource("dev.thaw.testing.Runtimes#names")
@Timeout(120)
class DeviceStateVersionTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    @Parameter
    String runtime;
    TestPlatform platform;
    Vm original;
    Path file;

    @BeforeEach
    void start() {
        platform = new TestPlatform(runtime);
        original = platform.manager().boot(new BootRequest("orig", 64L << 20, 1, Workload.FUNCTION, 9, 8L << 20,
                TouchOrder.SEQUENTIAL, 4096));
        original.invoke(WAIT);
        file = dir.resolve("now.snap");
        original.snapshot(file, true, Progress.NONE);
    }

    @AfterEach
    void stop() {
        if (platform != null) { // null where the runtime cannot run here: the test was skipped
            platform.close();
        }
    }

    @Test
    void theSnapshotRecordsEachDevicesStateVersion() {
        try (SnapshotReader r = platform.formats().open(file)) {
            assertEquals(Set.of(new SnapshotDevice("uart16550", 0, 1), new SnapshotDevice("debug-exit", 0, 1)),
                    Set.copyOf(r.origin().devices()));
        }
    }

    @Test
    void aDeviceStateNewerThanItsDeviceIsRefusedInOneLineNamingTheDeviceAndBothVersions() throws IOException {
        rewriteState(file, json -> replaceOnce(json, "{\"type\":\"uart16550\",\"version\":1,", "{\"type\":\"uart16550\",\"version\":2,"));
        long fds = GuestVmManagerTest.openFds();
        long threads = GuestVmManagerTest.vcpuThreads();
        SnapshotException e = assertThrows(SnapshotException.class,
                () -> platform.manager().restore(RestoreOptions.eager(file, "newer"), Progress.NONE));
        assertEquals(file + ": its state cannot be restored: the uart16550 device state is version 2, newer than the"
                + " uart16550 device here restores (version 1)", e.getMessage());
        assertTrue(platform.manager().find("newer").isEmpty(), "no VM is left behind");
        assertEquals(fds, GuestVmManagerTest.openFds(), "no file descriptor is left behind");
        assertEquals(threads, GuestVmManagerTest.vcpuThreads(), "no vCPU thread is left behind");
    }

    @Test
    void aSnapshotWrittenBeforeStatesHadVersionsRestoresItsDevicesAsVersionOneAndContinues() throws IOException {
        rewriteState(file, json -> json.replaceAll("(\"type\":\"[a-z0-9-]+\"),\"version\":1,", "$1,")
                .replaceAll(",\"tscKhz\":[0-9]+", ""));
        try (SnapshotReader r = platform.formats().open(file)) {
            assertEquals(Set.of(new SnapshotDevice("uart16550", 0, 1), new SnapshotDevice("debug-exit", 0, 1)),
                    Set.copyOf(r.origin().devices()));
            assertEquals(VcpuState.TSC_KHZ_UNKNOWN, r.state().orElseThrow().vcpus().getFirst().tscKhz());
        }
        Vm copy = platform.manager().restore(RestoreOptions.eager(file, "old"), Progress.NONE);
        for (int i = 0; i < 2; i++) {
            Invocation a = original.invoke(WAIT);
            Invocation b = copy.invoke(WAIT);
            assertEquals(a.index(), b.index());
            assertEquals(a.resultLine(), b.resultLine());
        }
        assertEquals(original.consoleText(), copy.consoleText());
    }

    private static String replaceOnce(String text, String what, String with) {
        int at = text.indexOf(what);
        assertTrue(at >= 0 && text.indexOf(what, at + 1) < 0, "exactly one " + what);
        return text.substring(0, at) + with + text.substring(at + what.length());
    }

    /**
     * Rewrites the state JSON of a Thaw file in place, as docs/snapshot-format.md lays it out: the header's
     * u64 at 56 and 64 locate it, its CRC32C is the u32 at 52, and the header's own CRC32C (over bytes 0 to
     * 4091) is at 4092. The new JSON may be shorter: spaces pad it to the old length (JSON allows them).
     */
    private static void rewriteState(Path file, UnaryOperator<String> change) throws IOException {
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = read(f, 0, 4096);
            long offset = header.getLong(56);
            int length = (int) header.getLong(64);
            String json = StandardCharsets.UTF_8.decode(read(f, offset, length)).toString();
            byte[] changed = change.apply(json).getBytes(StandardCharsets.UTF_8);
            assertFalse(Arrays.equals(changed, json.getBytes(StandardCharsets.UTF_8)), "the state changed");
            assertTrue(changed.length <= length, "the new state fits the old one's place");
            byte[] state = Arrays.copyOf(changed, length);
            Arrays.fill(state, changed.length, length, (byte) ' ');
            f.write(ByteBuffer.wrap(state), offset);
            header.putInt(52, crc(state, state.length));
            header.putInt(4092, crc(header.array(), 4092));
            f.write(header.rewind(), 0);
        }
    }

    private static ByteBuffer read(FileChannel f, long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (f.read(b, at + b.position()) < 0) {
                throw new IOException("the file ends before byte " + (at + length));
            }
        }
        return b.flip();
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}

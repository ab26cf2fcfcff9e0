package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestImageTest {

    static final Path SOURCE_ROOT = Path.of(System.getenv().getOrDefault("THAW_SOURCE_ROOT", "../.."));
    static final Path PREBUILT = SOURCE_ROOT.resolve("guest/prebuilt/thaw-guest.bin");

    @Test
    void theBundledImageIsThePrebuiltOneAndItsHeaderIsSane() throws IOException {
        GuestImage image = GuestImage.bundled();
        assertArrayEquals(Files.readAllBytes(PREBUILT), image.bytes());
        assertTrue(image.reservedEnd() >= GuestImage.LOAD_ADDRESS + image.bytes().length);
        assertTrue(image.maxVcpus() >= 2);
    }

    @Test
    void aDamagedHeaderIsRefusedWithItsReason() throws IOException {
        byte[] bytes = Files.readAllBytes(PREBUILT);
        bytes[GuestImage.HEADER_OFFSET] ^= 1;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GuestImage.parse("x.bin", bytes));
        assertEquals("x.bin: no THAWGST1 header at offset 0x10", e.getMessage());
        assertThrows(IllegalStateException.class, () -> GuestImage.parse("short.bin", new byte[20]));
    }

    /** The committed image must be exactly what the sources in guest/ build to. */
    @Test
    void thePrebuiltImageIsReproducibleFromItsSources(@TempDir Path out) throws Exception {
        assumeTrue(toolchainPresent(), "gcc, as, ld or objcopy missing: cannot rebuild the guest here");
        Process p = new ProcessBuilder("bash", SOURCE_ROOT.resolve("guest/build.sh").toString(), out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "guest build timed out");
        assertEquals(0, p.exitValue(), "guest build failed:\n" + log);
        assertArrayEquals(Files.readAllBytes(PREBUILT), Files.readAllBytes(out.resolve("thaw-guest.bin")),
                "guest/prebuilt/thaw-guest.bin differs from a fresh build of guest/: rebuild it with guest/build.sh guest/prebuilt");
    }

    private static boolean toolchainPresent() {
        for (String tool : new String[] {"gcc", "as", "ld", "objcopy"}) {
            boolean found = false;
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                found |= Files.isExecutable(Path.of(dir, tool));
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }
}

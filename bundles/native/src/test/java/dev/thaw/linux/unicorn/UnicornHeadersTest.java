package dev.thaw.linux.unicorn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.linux.internal.HeaderCheck;
import dev.thaw.linux.internal.UcX86Mmr;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every constant of the binding and the {@code uc_x86_mmr} layout, compiled against Unicorn's own headers. */
class UnicornHeadersTest {

    static final Path HEADER = Path.of("/usr/include/unicorn/unicorn.h");

    @TempDir
    Path dir;

    @Test
    void constantsAndLayoutsMatchUnicornH() throws Exception {
        assertTrue(Files.exists(HEADER), HEADER + " is missing: as root, run `apt-get install libunicorn-dev` (./thaw test installs it)");
        HeaderCheck check = new HeaderCheck("""
                #include <stdio.h>
                #include <stddef.h>
                #include <unicorn/unicorn.h>
                """);
        check.struct(UcX86Mmr.LAYOUT);
        int constants = check.constants(Unicorn.class) + check.constants(UcX86.class);
        assertTrue(constants > 50, "expected the binding's constants, found " + constants);
        check.assertMatches(dir, HEADER.toString());
    }
}

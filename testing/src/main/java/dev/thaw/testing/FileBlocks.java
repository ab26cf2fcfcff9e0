package dev.thaw.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** What the file system says a file occupies: {@code stat}'s block count (the JDK does not expose it). */
public final class FileBlocks {

    private FileBlocks() {}

    /** Bytes allocated to {@code file}: less than its size when it has holes. */
    public static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
            throw new IOException("stat " + file + ": " + out);
        }
        String[] blocks = out.split(" ");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }
}

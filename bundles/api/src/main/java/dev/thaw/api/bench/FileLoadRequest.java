package dev.thaw.api.bench;

import java.nio.file.Path;

/**
 * What {@code thaw:bench qemu-file} measures.
 *
 * @param file the snapshot file
 * @param offset where its stream starts in the file (QEMU's {@code file:PATH,offset=N}), usually 0
 * @param repeat measured rounds after one warm-up round; figures are medians
 * @param loaderThreads background loader threads of each lazy load
 * @param resultsRoot the folder that gets one results folder per run
 */
public record FileLoadRequest(Path file, long offset, int repeat, int loaderThreads, Path resultsRoot) {

    public FileLoadRequest {
        if (offset < 0 || repeat < 1 || loaderThreads < 1) {
            throw new IllegalArgumentException("offset " + offset + ", repeat " + repeat + ", loader threads " + loaderThreads);
        }
    }
}

package dev.thaw.qemu.postcopy.impl;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a batch's present pages from the file into its staging buffer, each page at its place in the batch, on
 * {@code threads} threads: the sender's own and {@code threads - 1} helpers. One thread reads a batch's runs in turn;
 * more split them, so that a file not in the page cache is read with several reads in flight (a hot-page-first batch
 * is hundreds of one-page runs in profile order, each a disk read of its own). The readers only read: which pages go,
 * and the stream, stay the sender's.
 */
final class PageReaders implements AutoCloseable {

    /** A piece of a batch: {@code count} pages from {@code page}, at batch index {@code index}. */
    private record Piece(int index, long page, int count) {}

    /**
     * Runs of up to this many pages are not split: from the page cache such a read takes about as long as handing
     * half of it to another thread (a background batch of the sequential order is one run of 64 pages; measured with
     * {@code ./thaw bench restore --runtime qemu}, splitting it did not load faster).
     */
    static final int MIN_PIECE_PAGES = 64;

    private final MigrationFile file;
    private final int threads;
    private final ExecutorService helpers;

    PageReaders(MigrationFile file, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("reader threads must be at least 1, not " + threads);
        }
        this.file = file;
        this.threads = threads;
        AtomicInteger number = new AtomicInteger();
        this.helpers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1,
                r -> Thread.ofPlatform().daemon().name("thaw-postcopy-reader-" + number.incrementAndGet()).unstarted(r));
    }

    /**
     * Reads the present pages of {@code batch} into {@code staging}, page {@code i} of the batch at
     * {@code i * PAGE_SIZE}; the other slots are left as they are.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException the first read that failed
     * @throws InterruptedException when the sender is interrupted while helpers read
     */
    void read(Batch batch, MemorySegment staging) throws InterruptedException {
        List<Piece> pieces = pieces(batch);
        if (helpers == null || pieces.size() < 2) {
            pieces.forEach(p -> read(p, staging));
            return;
        }
        List<List<Piece>> shares = new ArrayList<>();
        for (int t = 0; t < Math.min(threads, pieces.size()); t++) {
            shares.add(new ArrayList<>());
        }
        for (int i = 0; i < pieces.size(); i++) {
            shares.get(i % shares.size()).add(pieces.get(i));
        }
        List<Future<?>> reading = new ArrayList<>();
        for (List<Piece> share : shares.subList(1, shares.size())) {
            reading.add(helpers.submit(() -> share.forEach(p -> read(p, staging))));
        }
        RuntimeException first = null;
        try {
            shares.getFirst().forEach(p -> read(p, staging));
        } catch (RuntimeException e) {
            first = e;
        }
        for (Future<?> f : reading) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The batch's present runs, within one block each, split so that every thread has a share. */
    private List<Piece> pieces(Batch batch) {
        List<Piece> runs = new ArrayList<>();
        int present = 0;
        for (int i = 0; i < batch.size(); ) {
            long page = batch.page(i);
            if (!file.present(page)) {
                i++;
                continue;
            }
            SourceBlock block = file.blockOf(page);
            int run = 1;
            while (i + run < batch.size() && batch.page(i + run) == page + run && page + run < block.endPage()
                    && file.present(page + run)) {
                run++;
            }
            runs.add(new Piece(i, page, run));
            present += run;
            i += run;
        }
        if (threads == 1 || runs.size() >= threads) {
            return runs;
        }
        int most = Math.max(MIN_PIECE_PAGES, (present + threads - 1) / threads);
        List<Piece> pieces = new ArrayList<>();
        for (Piece r : runs) {
            for (int done = 0; done < r.count(); done += most) {
                pieces.add(new Piece(r.index() + done, r.page() + done, Math.min(most, r.count() - done)));
            }
        }
        return pieces;
    }

    private void read(Piece p, MemorySegment staging) {
        file.read(p.page(), p.count(), staging.asSlice((long) p.index() * Protocol.PAGE_SIZE, (long) p.count() * Protocol.PAGE_SIZE));
    }

    /** Ends the helpers and waits for them. */
    @Override
    public void close() {
        if (helpers != null) {
            helpers.shutdownNow();
            try {
                helpers.awaitTermination(PostcopySource.JOIN_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

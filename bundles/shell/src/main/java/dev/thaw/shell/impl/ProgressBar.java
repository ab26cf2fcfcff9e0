package dev.thaw.shell.impl;

import dev.thaw.api.snapshot.Progress;
import java.io.PrintStream;

/**
 * A progress bar on the error stream for work that takes longer than a moment: it appears after
 * {@link #SHOW_AFTER_NANOS}, redraws at most ten times a second, and ends its line when done.
 */
final class ProgressBar implements Progress {

    static final long SHOW_AFTER_NANOS = 500_000_000L;
    static final long REDRAW_NANOS = 100_000_000L;
    static final int WIDTH = 30;

    private final String label;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private long lastDraw;
    private boolean shown;

    ProgressBar(String label, PrintStream out) {
        this.label = label;
        this.out = out;
    }

    @Override
    public synchronized void update(long done, long total) {
        long now = System.nanoTime();
        if (now - start < SHOW_AFTER_NANOS || (now - lastDraw < REDRAW_NANOS && done < total) || total <= 0) {
            return;
        }
        lastDraw = now;
        shown = true;
        int filled = (int) Math.min(WIDTH, done * WIDTH / total);
        out.printf("\r%s [%s%s] %3d%% %s / %s", label, "#".repeat(filled), "-".repeat(WIDTH - filled),
                done * 100 / total, Sizes.format(done & ~0xfffffL), Sizes.format(total));
        out.flush();
    }

    /** Ends the bar's line, if it was drawn. */
    synchronized void finish() {
        if (shown) {
            out.println();
            out.flush();
        }
    }
}

package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PageRange;
import dev.thaw.qemu.postcopy.impl.Batch.Cause;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * Chooses the pages of each RAM part: every requested page not yet sent first, with what the policy's
 * {@code onFault} adds; then, when nothing is requested, the policy's {@code next()} ranges, and once it has no
 * preference left every page not yet sent in address order, zero pages too (QEMU ends postcopy at EOF without
 * checking that every page came: docs/qemu-postcopy.md 10.2). With zero pages on request, a page the file does
 * not hold goes only when the destination asks for it: prefetch and background take present pages alone. Each
 * page is taken once ({@link SentPages}). Requests come from the return-path thread; everything else runs on the
 * sending thread.
 */
final class PageScheduler {

    /** A request for pages {@code [first, first + count)}, read at {@code nanos}. */
    record Request(long first, long count, long nanos) {}

    /** Pages per background part: 256 KiB, so that a request waits for little more than that on the socket. */
    static final int BACKGROUND_PAGES = 64;
    /** Policy answers in a row that add nothing before the policy is taken as having no preference left. */
    static final int MAX_IDLE_ANSWERS = 1_000;

    private static final Request WAKE = new Request(-1, 0, 0);

    private final MigrationFile file;
    private final SentPages sent;
    private final PolicyGuard policy;
    private final SourceFigures figures;
    /** Whether a zero page goes only when requested (docs/qemu-postcopy.md 10.2). */
    private final boolean zeroPagesOnRequest;
    /** Whether the background waits for {@link #startBackground()} or {@link #loadRemaining()}. */
    private volatile boolean holdBackground;
    private final LinkedBlockingDeque<Request> requests = new LinkedBlockingDeque<>();
    /** Requested and prefetched ranges not yet taken whole, in the order they came. */
    private final ArrayDeque<Pending> urgent = new ArrayDeque<>();
    private final ArrayDeque<PageRange> policyRanges = new ArrayDeque<>();
    private boolean policyExhausted;
    private long sweep;
    private long presentTaken;
    private volatile boolean loadRemaining;

    private record Pending(long first, long end, Cause cause, Request request) {}

    /** {@code holdBackground}: nothing goes unasked until {@link #loadRemaining()}. */
    PageScheduler(MigrationFile file, SentPages sent, PolicyGuard policy, SourceFigures figures, boolean zeroPagesOnRequest,
            boolean holdBackground) {
        this.holdBackground = holdBackground;
        this.file = file;
        this.sent = sent;
        this.policy = policy;
        this.figures = figures;
        this.zeroPagesOnRequest = zeroPagesOnRequest;
    }

    /** A page request from the destination (any thread). */
    void request(Request r) {
        requests.add(r);
    }

    /** Wakes the sending thread waiting in {@link #awaitWork} (any thread). */
    void wake() {
        requests.addFirst(WAKE);
    }

    /** Ends a hold of the background: the policy's background order goes from now on (any thread). */
    void startBackground() {
        holdBackground = false;
        wake();
    }

    /** Send every page, even under a policy without background loading (any thread). */
    void loadRemaining() {
        loadRemaining = true;
        wake();
    }

    /** Every page the stream must carry is taken: every present page, and with zero pages sent, every page. */
    boolean allSent() {
        return zeroPagesOnRequest ? presentTaken == file.presentPages() : sent.all();
    }

    /** Waits until a request comes or {@link #wake} is called. */
    void awaitWork() throws InterruptedException {
        Request r = requests.take();
        if (r != WAKE) {
            requests.addFirst(r);
        }
    }

    /**
     * Fills {@code batch} with the next part's pages: requested ones (and their prefetch) alone, so that they
     * go at once, else, if {@code background} (the {@link SendWindow} is open), up to {@link #BACKGROUND_PAGES}
     * in the background order. Empty when there is nothing to send now: every page is sent, the window is full,
     * or the policy loads on demand only and nothing is requested.
     */
    void fill(Batch batch, boolean background) {
        batch.clear();
        for (Request r; (r = requests.poll()) != null; ) {
            if (r == WAKE) {
                continue;
            }
            figures.request();
            urgent.add(new Pending(r.first(), r.first() + r.count(), Cause.REQUEST, r));
            for (PageRange extra : policy.onFault(r.first())) {
                urgent.add(new Pending(extra.first(), extra.end(), Cause.PREFETCH, null));
            }
        }
        while (!urgent.isEmpty() && !batch.full()) {
            Pending p = urgent.poll();
            long next = take(p.first(), p.end(), p.cause(), p.request(), batch);
            if (next < p.end()) {
                urgent.addFirst(new Pending(next, p.end(), p.cause(), p.request()));
            }
        }
        if (batch.size() > 0 || !background || !(loadRemaining || policy.backgroundLoading() && !holdBackground)) {
            return;
        }
        int limit = Math.min(BACKGROUND_PAGES, batch.capacity());
        int idle = 0;
        while (batch.size() < limit && !policyExhausted) {
            PageRange r = policyRanges.poll();
            if (r == null) {
                List<PageRange> next = policy.next();
                if (next.isEmpty() || ++idle > MAX_IDLE_ANSWERS || policy.disabled()) {
                    policyExhausted = true;
                }
                policyRanges.addAll(next);
                continue;
            }
            long next = take(r.first(), r.end(), Cause.BACKGROUND, null, batch, limit);
            if (next < r.end()) {
                policyRanges.addFirst(new PageRange(next, r.end() - next));
            }
        }
        while (batch.size() < limit && sweep < file.pages()) {
            sweep = sent.nextFree(sweep);
            if (sweep < file.pages()) {
                if (!take(sweep, Cause.BACKGROUND, null, batch)) {
                    sweep++; // a zero page left to be asked for
                }
            }
        }
    }

    /**
     * Takes the pages of {@code [first, end)} not yet sent into {@code batch} as pages loaded ahead (before the
     * destination runs), up to its capacity; where it stopped. Zero pages too, even when they otherwise go only on
     * request: a profile's pages are the ones its guest asks for.
     */
    long takeAhead(long first, long end, Batch batch) {
        long p = first;
        for (; p < end && !batch.full(); p++) {
            take(p, Cause.BACKGROUND, null, batch, true);
        }
        return p;
    }

    private long take(long first, long end, Cause cause, Request request, Batch batch) {
        return take(first, end, cause, request, batch, batch.capacity());
    }

    /** Takes the pages of {@code [first, end)} not yet sent into {@code batch}, up to {@code limit}; where it stopped. */
    private long take(long first, long end, Cause cause, Request request, Batch batch, int limit) {
        long p = first;
        for (; p < end && batch.size() < limit; p++) {
            take(p, cause, request, batch);
        }
        return p;
    }

    /** Takes {@code page} into {@code batch} unless it was sent or is a zero page to be sent on request only. */
    private boolean take(long page, Cause cause, Request request, Batch batch) {
        return take(page, cause, request, batch, false);
    }

    /** As above; {@code wanted}: a zero page goes too, as if requested. */
    private boolean take(long page, Cause cause, Request request, Batch batch, boolean wanted) {
        boolean present = file.present(page);
        if (zeroPagesOnRequest && !present && cause != Cause.REQUEST && !wanted || !sent.take(page)) {
            return false;
        }
        if (present) {
            presentTaken++;
        }
        batch.add(page, cause, request);
        return true;
    }
}

package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A page policy's session as a postcopy source asks it, from its one sending thread: every answer clipped to the
 * pages, every exception and slow call counted as a policy error (the first one kept), and a policy that is
 * slow {@link #SLOW_CALLS_TO_DISABLE} times disabled; then requests send their pages alone and the rest goes in
 * address order. Until {@link #open} and after {@link #close} it answers as the no-op session does.
 */
final class PolicyGuard {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyGuard.class);
    private static final PolicySession NO_OP = new PolicySession() {};

    /** As the restore engine counts them: a call slower than this is a policy error. */
    static final long SLOW_CALL_NANOS = 10_000_000;
    static final int SLOW_CALLS_TO_DISABLE = 3;

    private final PagePolicy policy;
    private final String name;
    private final long pageCount;
    private PolicySession session = NO_OP;
    private boolean disabled;
    private int slowCalls;
    private final LongAdder errors = new LongAdder();
    private final AtomicReference<String> problem = new AtomicReference<>();

    PolicyGuard(PagePolicy policy, long pageCount) {
        this.policy = policy;
        this.name = policy.name();
        this.pageCount = pageCount;
    }

    String name() {
        return name;
    }

    /** Starts the policy's session for {@code view}; a policy that fails to start is an error, and the no-op session serves. */
    void open(RestoreView view) {
        long since = System.nanoTime();
        try {
            PolicySession s = policy.start(view);
            if (s == null) {
                error("start returned null", null);
            } else {
                session = s;
            }
        } catch (RuntimeException e) {
            error("start failed", e);
        }
        timed("start", since);
    }

    /** The pages to send with a requested {@code page} (the requesting vCPU is not known: -1). */
    List<PageRange> onFault(long page) {
        if (disabled) {
            return List.of();
        }
        long since = System.nanoTime();
        try {
            return checked(session.onFault(page, -1), "onFault");
        } catch (RuntimeException e) {
            error("onFault(" + page + ") failed", e);
            return List.of();
        } finally {
            timed("onFault(" + page + ")", since);
        }
    }

    /** The next ranges in the policy's order; empty when it has no preference left, is disabled, or failed. */
    List<PageRange> next() {
        if (disabled) {
            return List.of();
        }
        long since = System.nanoTime();
        try {
            return checked(session.next(), "next");
        } catch (RuntimeException e) {
            error("next failed", e);
            return List.of();
        } finally {
            timed("next", since);
        }
    }

    /** Whether the session wants pages sent in the background; true if it fails to say. */
    boolean backgroundLoading() {
        try {
            return session.backgroundLoading();
        } catch (RuntimeException e) {
            error("backgroundLoading failed", e);
            return true;
        }
    }

    boolean disabled() {
        return disabled;
    }

    void close() {
        PolicySession s = session;
        session = NO_OP;
        try {
            s.close();
        } catch (RuntimeException e) {
            error("close failed", e);
        }
    }

    long errors() {
        return errors.sum();
    }

    /** Why the policy was disabled, else its first error; null when none. */
    String problem() {
        return problem.get();
    }

    private void timed(String call, long since) {
        long took = System.nanoTime() - since;
        if (took > SLOW_CALL_NANOS) {
            error(call + " took " + took / 1_000_000 + " ms", null);
            if (++slowCalls >= SLOW_CALLS_TO_DISABLE && !disabled) {
                disabled = true;
                String why = "disabled: " + SLOW_CALLS_TO_DISABLE + " calls took over " + SLOW_CALL_NANOS / 1_000_000 + " ms";
                problem.set(why);
                LOG.warn("page policy {}: {}; requests send their pages alone, the rest goes in address order", name, why);
            }
        }
    }

    private void error(String what, Throwable e) {
        errors.increment();
        problem.compareAndSet(null, what + (e == null ? "" : ": " + e));
        if (errors.sum() <= 10) {
            LOG.warn("page policy {}: {}{}", name, what, e == null ? "" : ": " + e);
        }
    }

    private List<PageRange> checked(List<PageRange> ranges, String call) {
        if (ranges == null) {
            error(call + " returned null", null);
            return List.of();
        }
        List<PageRange> ok = new ArrayList<>(ranges.size());
        for (PageRange r : ranges) {
            if (r == null || r.first() >= pageCount) {
                error(call + " returned " + r + " outside the " + pageCount + " pages", null);
            } else if (r.end() > pageCount || r.end() < r.first()) {
                error(call + " returned " + r + " beyond the " + pageCount + " pages", null);
                ok.add(new PageRange(r.first(), pageCount - r.first()));
            } else {
                ok.add(r);
            }
        }
        return ok;
    }
}

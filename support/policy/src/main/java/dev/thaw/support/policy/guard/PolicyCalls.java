package dev.thaw.support.policy.guard;

import dev.thaw.api.policy.PageRange;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The account an engine keeps of one page policy's calls, whatever runs them: every answer clipped to guest
 * memory, every problem counted as a policy error with the first one kept and the first {@link #LOGGED_ERRORS}
 * logged, and the policy disabled after {@link #SLOW_CALLS_TO_DISABLE} slow calls or one hung call. How a call
 * is run, and what is done for the pages a disabled policy no longer orders, is the engine's. Thread-safe.
 */
public final class PolicyCalls {

    /** A policy call slower than this is a policy error; {@link #SLOW_CALLS_TO_DISABLE} of them disable the policy. */
    public static final long SLOW_CALL_NANOS = 10_000_000;
    public static final int SLOW_CALLS_TO_DISABLE = 3;
    /** A call this long is taken as hung: the engine stops waiting for it and disables the policy ({@link #hung}). */
    public static final long HUNG_CALL_NANOS = 500_000_000;
    /** Errors past this many are counted but not logged: a policy failing on every fault must not flood the log. */
    public static final int LOGGED_ERRORS = 10;

    private final long pageCount;
    private final String withoutPolicy;
    private final Runnable onDisabled;
    private final Consumer<String> warn;

    private final LongAdder errors = new LongAdder();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicBoolean disabled = new AtomicBoolean();
    private volatile String disabledWhy;
    private final AtomicInteger slowCalls = new AtomicInteger();

    /**
     * @param pageCount the guest's pages, which every answer is clipped to
     * @param withoutPolicy what the engine does once the policy is disabled, for the log
     * @param onDisabled runs once, when the policy is disabled
     * @param warn logs one problem of the policy's (the engine's logger, with the policy's name)
     */
    public PolicyCalls(long pageCount, String withoutPolicy, Runnable onDisabled, Consumer<String> warn) {
        this.pageCount = pageCount;
        this.withoutPolicy = withoutPolicy;
        this.onDisabled = onDisabled;
        this.warn = warn;
    }

    /** The policy's answer to {@code call}, clipped to guest memory; anything bad in it is a policy error. */
    public List<PageRange> checked(List<PageRange> ranges, String call) {
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

    /** A policy error: counted, the first one kept, the first {@link #LOGGED_ERRORS} logged. */
    public void error(String what, Throwable e) {
        String problem = what + (e == null ? "" : ": " + e);
        errors.increment();
        firstError.compareAndSet(null, problem);
        if (errors.sum() <= LOGGED_ERRORS) {
            warn.accept(problem);
        }
    }

    /** {@code call}, entered at {@code since} ({@link System#nanoTime}), returned now: a slow one is an error, too many disable. */
    public void timed(String call, long since) {
        long took = System.nanoTime() - since;
        if (took > SLOW_CALL_NANOS) {
            error(call + " took " + took / 1_000_000 + " ms", null);
            if (slowCalls.incrementAndGet() >= SLOW_CALLS_TO_DISABLE) {
                disable(SLOW_CALLS_TO_DISABLE + " calls took over " + SLOW_CALL_NANOS / 1_000_000 + " ms");
            }
        }
    }

    /** {@code call} did not return within {@link #HUNG_CALL_NANOS}: the engine gave up on it, and on the policy. */
    public void hung(String call) {
        disable(call + " did not return within " + HUNG_CALL_NANOS / 1_000_000 + " ms");
    }

    /** Disables the policy, once: {@code why} becomes its problem, a policy error, and {@code onDisabled} runs. */
    public void disable(String why) {
        if (disabled.compareAndSet(false, true)) {
            disabledWhy = "disabled: " + why;
            onDisabled.run();
            error(disabledWhy + "; " + withoutPolicy, null);
        }
    }

    public boolean disabled() {
        return disabled.get();
    }

    public long errors() {
        return errors.sum();
    }

    /** Why the policy was disabled, else its first error, else null. */
    public String problem() {
        String why = disabledWhy;
        return why != null ? why : firstError.get();
    }
}

package dev.thaw.restore.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.support.policy.guard.PolicyCalls;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One restore's page policy behind guards: its session, opened once the vCPUs run (until then, and
 * whenever the policy is disabled, it answers as the no-op session does); every call timed and every
 * answer clipped to guest memory; errors counted, the first one kept; and a policy that misbehaves too
 * often disabled, after which faults load their page alone and loaders go in address order. The account of
 * the calls is {@link PolicyCalls}, as the QEMU postcopy source keeps it; the calls run on the engine's own
 * threads (no hand-off on the fault path), so a hung one is found by {@link #watchOnFault} and rescued.
 */
final class GuardedPolicy {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedPolicy.class);

    /** As {@link PolicyCalls} counts calls: a slower one is a policy error. */
    static final long SLOW_CALL_NANOS = PolicyCalls.SLOW_CALL_NANOS;
    /** A call this long is taken as hung: the policy is disabled (see {@link #watchOnFault}). */
    static final long HUNG_CALL_NANOS = PolicyCalls.HUNG_CALL_NANOS;
    static final long WATCH_PERIOD_NANOS = 10_000_000;

    private static final PolicySession NO_OP = new PolicySession() {};

    private final PagePolicy policy;
    private final String name;
    private final PolicyCalls calls;

    private volatile PolicySession session = NO_OP;
    private final CountDownLatch opened = new CountDownLatch(1);
    private boolean closed; // guarded by opened

    /** When the fault service entered onFault; 0 when it is not in it. */
    private volatile long onFaultSince;
    /** When a loader entered next(); 0 when none is in it. */
    private volatile long nextSince;
    /** One loader asks next() at a time. */
    private final ReentrantLock nextLock = new ReentrantLock();

    /** @param onDisabled runs once when the policy is disabled (the engine stops asking it for background ranges) */
    GuardedPolicy(PagePolicy policy, long pageCount, Runnable onDisabled) {
        this.policy = policy;
        this.name = policy.name();
        this.calls = new PolicyCalls(pageCount, "faults load their page alone, the rest loads in address order",
                onDisabled, problem -> LOG.warn("page policy {}: {}", name, problem));
    }

    String name() {
        return name;
    }

    /**
     * Starts the policy's session for {@code view}: the policy may read its working-set profile and index
     * it here, so this runs on an engine thread once the vCPUs run, never on the resume path. A session
     * that opens after the restore was closed is closed at once.
     */
    void open(RestoreView view) {
        PolicySession started = NO_OP;
        try {
            started = start(view);
        } finally { // an Error from the policy still opens (the no-op session): nobody waits forever
            synchronized (opened) {
                if (closed) {
                    closeQuietly(started);
                } else {
                    session = started;
                }
                opened.countDown();
            }
        }
    }

    private PolicySession start(RestoreView view) {
        try {
            PolicySession s = policy.start(view);
            if (s != null) {
                return s;
            }
            error("start returned null", null);
        } catch (RuntimeException e) {
            error("start failed", e);
        }
        return NO_OP;
    }

    boolean isOpen() {
        return opened.getCount() == 0;
    }

    /** Waits until {@link #open} has returned. */
    void awaitOpen() {
        try {
            opened.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the session (now, or when it opens); a caller waiting for it to open goes on. */
    void close() {
        PolicySession s;
        synchronized (opened) {
            closed = true;
            s = session;
            session = NO_OP;
            opened.countDown();
        }
        closeQuietly(s);
    }

    private void closeQuietly(PolicySession s) {
        try {
            s.close();
        } catch (RuntimeException e) {
            error("close failed", e);
        }
    }

    /** The pages to load with the faulting {@code page}, checked; none when disabled or on an error. */
    List<PageRange> onFault(long page, int vcpu) {
        if (calls.disabled()) {
            return List.of();
        }
        long since = System.nanoTime();
        onFaultSince = since;
        try {
            return calls.checked(session.onFault(page, vcpu), "onFault");
        } catch (RuntimeException e) {
            error("onFault(" + page + ") failed", e);
            return List.of();
        } finally {
            onFaultSince = 0;
            calls.timed("onFault(" + page + ")", since);
        }
    }

    /**
     * The watchdog, run on after the session opened while {@code running} says so: a fault service stuck in
     * the policy's onFault (a hung policy) would leave its vCPUs waiting forever. After
     * {@link #HUNG_CALL_NANOS} the policy is disabled and {@code rescue} serves the faults it held.
     */
    void watchOnFault(BooleanSupplier running, Runnable rescue) {
        while (running.getAsBoolean()) {
            LockSupport.parkNanos(WATCH_PERIOD_NANOS);
            long since = onFaultSince;
            if (since != 0 && System.nanoTime() - since > HUNG_CALL_NANOS && running.getAsBoolean()) {
                onFaultSince = 0; // given up: its faults are served without it
                calls.hung("onFault");
                rescue.run();
            }
        }
    }

    /**
     * The session's next ranges, checked (empty on an error); null when {@code wanted} says no more once
     * this loader's turn came, or when another loader is asking and did not finish within
     * {@link #SLOW_CALL_NANOS} (the caller looks again): a policy whose next() hangs holds up one loader
     * only, and is disabled after {@link #HUNG_CALL_NANOS}.
     */
    List<PageRange> next(BooleanSupplier wanted) {
        if (!tryLock()) {
            return null;
        }
        try {
            if (!wanted.getAsBoolean()) {
                return null;
            }
            long since = System.nanoTime();
            nextSince = since;
            try {
                return calls.checked(session.next(), "next");
            } catch (RuntimeException e) {
                error("next failed", e);
                return List.of();
            } finally {
                nextSince = 0;
                calls.timed("next", since);
            }
        } finally {
            nextLock.unlock();
        }
    }

    private boolean tryLock() {
        try {
            if (nextLock.tryLock(SLOW_CALL_NANOS, TimeUnit.NANOSECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long since = nextSince;
        if (since != 0 && System.nanoTime() - since > HUNG_CALL_NANOS) {
            calls.hung("next"); // its loader is lost
        }
        return false;
    }

    /** Whether the session wants background loaders; true if it fails to say. */
    boolean backgroundLoading() {
        try {
            return session.backgroundLoading();
        } catch (RuntimeException e) {
            error("backgroundLoading failed", e);
            return true;
        }
    }

    boolean disabled() {
        return calls.disabled();
    }

    private void error(String what, Throwable e) {
        calls.error(what, e);
    }

    long errors() {
        return calls.errors();
    }

    /** Why the policy was disabled, else its first error, else null. */
    String problem() {
        return calls.problem();
    }
}

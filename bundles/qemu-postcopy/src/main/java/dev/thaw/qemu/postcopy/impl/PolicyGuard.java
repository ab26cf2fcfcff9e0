package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.support.policy.guard.PolicyCalls;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A page policy's session as a postcopy source asks it, from its one sending thread, with the restore engine's
 * account of the calls ({@link PolicyCalls}): every answer clipped to the pages, every exception and slow call a
 * policy error (the first one kept), and a policy that is slow {@link PolicyCalls#SLOW_CALLS_TO_DISABLE} times
 * disabled; then requests send their pages alone and the rest goes in address order. Until {@link #open} and after {@link #close} it answers as the no-op session does.
 */
final class PolicyGuard {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyGuard.class);
    private static final PolicySession NO_OP = new PolicySession() {};

    private final PagePolicy policy;
    private final String name;
    private final PolicyCalls calls;
    private PolicySession session = NO_OP;

    PolicyGuard(PagePolicy policy, long pageCount) {
        this.policy = policy;
        this.name = policy.name();
        this.calls = new PolicyCalls(pageCount, "requests send their pages alone, the rest goes in address order",
                () -> {}, problem -> LOG.warn("page policy {}: {}", name, problem));
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
                calls.error("start returned null", null);
            } else {
                session = s;
            }
        } catch (RuntimeException e) {
            calls.error("start failed", e);
        }
        calls.timed("start", since);
    }

    /** The pages to send with a requested {@code page} (the requesting vCPU is not known: -1). */
    List<PageRange> onFault(long page) {
        if (calls.disabled()) {
            return List.of();
        }
        long since = System.nanoTime();
        try {
            return calls.checked(session.onFault(page, -1), "onFault");
        } catch (RuntimeException e) {
            calls.error("onFault(" + page + ") failed", e);
            return List.of();
        } finally {
            calls.timed("onFault(" + page + ")", since);
        }
    }

    /** The next ranges in the policy's order; empty when it has no preference left, is disabled, or failed. */
    List<PageRange> next() {
        if (calls.disabled()) {
            return List.of();
        }
        long since = System.nanoTime();
        try {
            return calls.checked(session.next(), "next");
        } catch (RuntimeException e) {
            calls.error("next failed", e);
            return List.of();
        } finally {
            calls.timed("next", since);
        }
    }

    /** Whether the session wants pages sent in the background; true if it fails to say. */
    boolean backgroundLoading() {
        try {
            return session.backgroundLoading();
        } catch (RuntimeException e) {
            calls.error("backgroundLoading failed", e);
            return true;
        }
    }

    boolean disabled() {
        return calls.disabled();
    }

    void close() {
        PolicySession s = session;
        session = NO_OP;
        try {
            s.close();
        } catch (RuntimeException e) {
            calls.error("close failed", e);
        }
    }

    long errors() {
        return calls.errors();
    }

    /** Why the policy was disabled, else its first error; null when none. */
    String problem() {
        return calls.problem();
    }
}

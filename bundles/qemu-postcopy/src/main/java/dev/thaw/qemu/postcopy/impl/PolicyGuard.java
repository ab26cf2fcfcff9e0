package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.support.policy.guard.PolicyCalls;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A page policy's session as a postcopy source asks it, from its one sending thread, with the restore engine's
 * account of the calls ({@link PolicyCalls}): every answer clipped to the pages, every exception and slow call a
 * policy error (the first one kept), and a policy that is slow {@link PolicyCalls#SLOW_CALLS_TO_DISABLE} times
 * disabled; then requests send their pages alone and the rest goes in address order. Each call runs on a
 * {@link PolicyCallThread} with a deadline of {@link PolicyCalls#HUNG_CALL_NANOS}: a call that does not return
 * by then disables the policy and is left to it, and the source goes on without it (the restore engine instead
 * calls on its own threads and rescues a stuck one; the source has one sending thread and nothing to rescue it
 * with). Until {@link #open} and after {@link #close} it answers as the no-op session does.
 */
final class PolicyGuard {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyGuard.class);
    private static final PolicySession NO_OP = new PolicySession() {};
    private static final String THREAD = "thaw-postcopy-policy";

    private final PagePolicy policy;
    private final String name;
    private final PolicyCalls calls;
    private PolicyCallThread thread = new PolicyCallThread(THREAD);
    /** A call did not return: the thread is the policy's, and only {@link #close} asks it anything again. */
    private boolean hung;
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
        Optional<PolicySession> started = call("start", () -> Optional.ofNullable(policy.start(view)), null);
        if (started != null && started.isEmpty()) {
            calls.error("start returned null", null);
        }
        if (started != null && started.isPresent()) {
            session = started.get();
        }
    }

    /** The pages to send with a requested {@code page} (the requesting vCPU is not known: -1). */
    List<PageRange> onFault(long page) {
        if (calls.disabled()) {
            return List.of();
        }
        PolicySession s = session;
        List<PageRange> ranges = call("onFault(" + page + ")", () -> s.onFault(page, -1), List.of());
        return calls.checked(ranges, "onFault");
    }

    /** The next ranges in the policy's order; empty when it has no preference left, is disabled, or failed. */
    List<PageRange> next() {
        if (calls.disabled()) {
            return List.of();
        }
        PolicySession s = session;
        return calls.checked(call("next", s::next, List.of()), "next");
    }

    /** Whether the session wants pages sent in the background; true if it fails to say or hung. */
    boolean backgroundLoading() {
        PolicySession s = session;
        return call("backgroundLoading", s::backgroundLoading, true);
    }

    boolean disabled() {
        return calls.disabled();
    }

    /** Closes the session, on a fresh thread if a call hung; ends the thread (one that hung is left to the policy). */
    void close() {
        PolicySession s = session;
        session = NO_OP;
        if (hung) {
            thread = new PolicyCallThread(THREAD + "-close");
            hung = false;
        }
        call("close", () -> {
            s.close();
            return null;
        }, null);
        if (!hung) {
            thread.end();
        }
    }

    long errors() {
        return calls.errors();
    }

    /** Why the policy was disabled, else its first error; null when none. */
    String problem() {
        return calls.problem();
    }

    /**
     * {@code body}'s answer, or {@code otherwise} when it threw a {@link RuntimeException} (a policy error) or did
     * not return within {@link PolicyCalls#HUNG_CALL_NANOS} (the policy is disabled); timed. An {@link Error}
     * from the policy fails the source, as it would on the sending thread. A null answer is returned as such.
     */
    private <T> T call(String what, Callable<T> body, T otherwise) {
        if (hung) {
            return otherwise;
        }
        // Timed on the call's own thread: the hand-off to it and back is not the policy's time.
        Callable<T> timed = () -> {
            long since = System.nanoTime();
            try {
                return body.call();
            } finally {
                calls.timed(what, since);
            }
        };
        try {
            return thread.call(timed, PolicyCalls.HUNG_CALL_NANOS);
        } catch (TimeoutException e) {
            hung = true;
            thread.abandon();
            calls.hung(what);
            return otherwise;
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case RuntimeException failed -> calls.error(what + " failed", failed);
                case Error error -> throw error;
                default -> calls.error(what + " failed", e.getCause());
            }
            return otherwise;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return otherwise;
        }
    }
}

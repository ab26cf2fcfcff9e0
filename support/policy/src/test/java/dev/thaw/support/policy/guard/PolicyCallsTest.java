package dev.thaw.support.policy.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PageRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A policy's calls as an engine accounts for them: clipped answers, counted errors, slow and hung calls. */
class PolicyCallsTest {

    private static final long PAGES = 100;

    private final List<String> logged = new ArrayList<>();
    private final AtomicInteger disabledRuns = new AtomicInteger();
    private final PolicyCalls calls = new PolicyCalls(PAGES, "pages go in address order", disabledRuns::incrementAndGet,
            logged::add);

    @Test
    void answersInsideGuestMemoryPassUnchanged() {
        List<PageRange> answer = List.of(new PageRange(0, 1), new PageRange(10, 90));
        assertEquals(answer, calls.checked(answer, "next"));
        assertEquals(0, calls.errors());
        assertNull(calls.problem());
    }

    @Test
    void answersBeyondGuestMemoryAreClippedAndOutsideOnesDropped() {
        List<PageRange> answer = Arrays.asList(new PageRange(5, 2), new PageRange(100, 1), null,
                new PageRange(90, 20), new PageRange(99, Long.MAX_VALUE));
        assertEquals(List.of(new PageRange(5, 2), new PageRange(90, 10), new PageRange(99, 1)),
                calls.checked(answer, "onFault"));
        assertEquals(4, calls.errors());
        assertEquals("onFault returned PageRange[first=100, count=1] outside the 100 pages", calls.problem());
        assertFalse(calls.disabled(), "bad answers are errors, not a reason to disable");
    }

    @Test
    void aNullAnswerIsAnErrorAndNoPages() {
        assertEquals(List.of(), calls.checked(null, "next"));
        assertEquals(1, calls.errors());
        assertEquals("next returned null", calls.problem());
    }

    @Test
    void theFirstErrorIsKeptAndOnlyTheFirstTenLogged() {
        calls.error("start failed", new IllegalStateException("no profile"));
        for (int i = 0; i < 20; i++) {
            calls.error("next failed " + i, null);
        }
        assertEquals(21, calls.errors());
        assertEquals("start failed: java.lang.IllegalStateException: no profile", calls.problem());
        assertEquals(PolicyCalls.LOGGED_ERRORS, logged.size(), logged.toString());
        assertEquals("start failed: java.lang.IllegalStateException: no profile", logged.get(0));
    }

    @Test
    void aFastCallIsNoError() {
        calls.timed("next", System.nanoTime());
        assertEquals(0, calls.errors());
    }

    @Test
    void slowCallsAreErrorsAndEnoughOfThemDisableThePolicyOnce() {
        long slow = System.nanoTime() - 2 * PolicyCalls.SLOW_CALL_NANOS;
        for (int i = 1; i < PolicyCalls.SLOW_CALLS_TO_DISABLE; i++) {
            calls.timed("onFault(" + i + ")", slow);
            assertFalse(calls.disabled());
        }
        assertTrue(calls.problem().startsWith("onFault(1) took "), calls.problem());
        calls.timed("next", slow);
        calls.timed("next", slow);
        assertTrue(calls.disabled());
        assertEquals(1, disabledRuns.get());
        assertEquals("disabled: 3 calls took over 10 ms", calls.problem(), "the reason outranks the first error");
        assertTrue(logged.contains("disabled: 3 calls took over 10 ms; pages go in address order"), logged.toString());
    }

    @Test
    void aHungCallDisablesThePolicyWithItsName() {
        calls.error("next returned null", null);
        calls.hung("onFault(7)");
        calls.hung("next");
        assertTrue(calls.disabled());
        assertEquals(1, disabledRuns.get());
        assertEquals("disabled: onFault(7) did not return within 500 ms", calls.problem());
        assertEquals(2, calls.errors());
    }
}

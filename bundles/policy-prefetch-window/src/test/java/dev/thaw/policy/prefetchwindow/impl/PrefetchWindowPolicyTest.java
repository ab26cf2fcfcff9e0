package dev.thaw.policy.prefetchwindow.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.policy.FakeRestore;
import dev.thaw.testing.policy.PagePolicyContract;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PrefetchWindowPolicyTest extends PagePolicyContract {

    private static final long MIN = 16; // 64 KiB
    private static final long MAX = 1024; // 4 MiB

    @Override
    protected PagePolicy policy() {
        return new PrefetchWindowPolicy(ConfigProxy.defaults(PrefetchWindowPolicy.Config.class));
    }

    @Override
    protected Optional<Map<String, Object>> demandOnlyParameters() {
        return Optional.of(Map.of("background", false));
    }

    /** Faults where a guest reading memory in order would fault: at the end of each window. Returns the windows. */
    private static List<Long> sequentialWindows(PolicySession session, long from, int faults) {
        List<Long> windows = new ArrayList<>();
        long page = from;
        for (int i = 0; i < faults; i++) {
            List<PageRange> ranges = session.onFault(page, 0);
            long end = ranges.isEmpty() ? page + 1 : ranges.getLast().end();
            windows.add(end - page);
            page = end;
        }
        return windows;
    }

    @Test
    void windowDoublesOnSequentialFaultsUpToTheMaximum() {
        PolicySession session = policy().start(FakeRestore.of(1 << 20));
        assertEquals(List.of(MIN, 32L, 64L, 128L, 256L, 512L, MAX, MAX, MAX), sequentialWindows(session, 0, 9));
    }

    @Test
    void faultsJustAfterTheWindowOrInsideItCountAsSequential() {
        PolicySession session = policy().start(FakeRestore.of(1 << 20));
        assertEquals(List.of(new PageRange(101, 15)), session.onFault(100, 0));
        assertEquals(List.of(new PageRange(116 + MIN - 1 + 1, 31)), session.onFault(116 + MIN - 1, 0), "just after the end");
        assertEquals(64, session.onFault(140, 0).getFirst().count() + 1, "inside the previous window");
    }

    @Test
    void windowShrinksToTheMinimumOnAJump() {
        PolicySession session = policy().start(FakeRestore.of(1 << 20));
        List<Long> grown = sequentialWindows(session, 0, 6);
        assertEquals(512L, grown.getLast());
        assertEquals(List.of(new PageRange(500_001, MIN - 1)), session.onFault(500_000, 0), "a jump forward");
        sequentialWindows(session, 500_016, 3);
        assertEquals(List.of(new PageRange(11, MIN - 1)), session.onFault(10, 0), "a jump backwards");
        assertEquals(List.of(new PageRange(26 + MIN + 1, MIN - 1)), session.onFault(26 + MIN, 0), "one minimum window past the end");
    }

    @Test
    void eachVcpuLearnsItsOwnWindow() {
        PolicySession session = policy().start(FakeRestore.of(1 << 20));
        long a = 0;
        long b = 700_000;
        for (int i = 0; i < 5; i++) {
            a = session.onFault(a, 0).getLast().end();
            b = session.onFault(b, 7).getLast().end();
        }
        PrefetchWindowPolicy.Session windows = (PrefetchWindowPolicy.Session) session;
        assertEquals(256, windows.window(0));
        assertEquals(256, windows.window(7));
    }

    @Test
    void windowIsClippedAtTheEndOfMemory() {
        PolicySession session = policy().start(FakeRestore.of(100));
        assertEquals(List.of(new PageRange(91, 9)), session.onFault(90, 0));
        assertEquals(List.of(), session.onFault(99, 0));
    }

    @Test
    void limitsComeFromConfigurationAndParameters() {
        PagePolicy configured = new PrefetchWindowPolicy(
                ConfigProxy.of(PrefetchWindowPolicy.Config.class, Map.of("minWindowKiB", 8L, "maxWindowKiB", 32L)));
        assertEquals(List.of(2L, 4L, 8L, 8L), sequentialWindows(configured.start(FakeRestore.of(1000)), 0, 4));
        assertTrue(configured.description().contains("8 KiB to 32 KiB"), configured.description());
        FakeRestore restore = FakeRestore.of(1000).with("minWindowKiB", "4").with("maxWindowKiB", 16);
        assertEquals(List.of(1L, 2L, 4L, 4L), sequentialWindows(policy().start(restore), 0, 4));
    }

    @Test
    void minimumAboveMaximumIsRejectedClearly() {
        var config = ConfigProxy.of(PrefetchWindowPolicy.Config.class, Map.of("minWindowKiB", 128L, "maxWindowKiB", 64L));
        var inConfig = assertThrows(IllegalArgumentException.class, () -> PrefetchWindowPolicy.check(config));
        assertEquals("prefetch-window: minWindowKiB (128) must not exceed maxWindowKiB (64)", inConfig.getMessage());
        assertTrue(new PrefetchWindowPolicy(config).description().endsWith("64 KiB to 4096 KiB"),
                "refused at activation: the declared defaults apply");
        var inParameters = assertThrows(IllegalArgumentException.class,
                () -> policy().start(FakeRestore.of(100).with("minWindowKiB", 8192)));
        assertEquals("prefetch-window: minWindowKiB (8192) must not exceed maxWindowKiB (4096)", inParameters.getMessage());
    }

    @Test
    void hasNoBackgroundPreference() {
        PolicySession session = policy().start(FakeRestore.of(100));
        assertTrue(session.backgroundLoading());
        assertEquals(List.of(), session.next());
    }

    @Test
    void aConfigurationChangeAppliesAndOneWithABadValueIsRefusedThePreviousStaying() {
        PrefetchWindowPolicy p = new PrefetchWindowPolicy(ConfigProxy.defaults(PrefetchWindowPolicy.Config.class));
        p.modified(ConfigProxy.of(PrefetchWindowPolicy.Config.class, Map.of("minWindowKiB", 16L, "maxWindowKiB", 512L)));
        assertTrue(p.description().endsWith("16 KiB to 512 KiB"), p.description());
        p.modified(ConfigProxy.of(PrefetchWindowPolicy.Config.class, Map.of("minWindowKiB", 1024L, "maxWindowKiB", 512L)));
        assertTrue(p.description().endsWith("16 KiB to 512 KiB"), "min above max refused: " + p.description());
        p.modified(ConfigProxy.of(PrefetchWindowPolicy.Config.class, Map.of("maxWindowKiB", 2097152L)));
        assertTrue(p.description().endsWith("16 KiB to 512 KiB"), "beyond the Metatype range refused: " + p.description());
    }
}

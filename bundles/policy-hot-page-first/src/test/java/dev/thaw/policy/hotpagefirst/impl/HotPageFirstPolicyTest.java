package dev.thaw.policy.hotpagefirst.impl;

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
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The contract with a profile (including runs beyond memory and over holes), then without one, then behaviour. */
class HotPageFirstPolicyTest extends PagePolicyContract {

    @Override
    protected PagePolicy policy() {
        return new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class));
    }

    @Override
    protected FakeRestore restore(long pageCount) {
        return super.restore(pageCount).withWorkingSet(List.of(
                new PageRange(pageCount - 1, 1), new PageRange(pageCount / 2, 40), new PageRange(0, 3),
                new PageRange(pageCount + 10, 5), new PageRange(pageCount / 3, 700), new PageRange(Long.MAX_VALUE / 2, 9)));
    }

    @Override
    protected Optional<Map<String, Object>> demandOnlyParameters() {
        return Optional.of(Map.of("background", false));
    }

    @Nested
    class WithoutProfile extends PagePolicyContract {
        @Override
        protected PagePolicy policy() {
            return HotPageFirstPolicyTest.this.policy();
        }

        @Override
        protected Optional<Map<String, Object>> demandOnlyParameters() {
            return Optional.of(Map.of("background", false));
        }

        @Test
        void faultsLoadTheirPageAloneAndTheEngineSweeps() {
            PolicySession session = policy().start(FakeRestore.of(1000));
            assertEquals(List.of(), session.onFault(10, 0));
            assertEquals(List.of(), session.next());
        }
    }

    private static final List<PageRange> PROFILE = List.of(
            new PageRange(500, 4), new PageRange(10, 2), new PageRange(900, 300), new PageRange(100, 1), new PageRange(2000, 8));

    private static List<PageRange> drain(PolicySession session, FakeRestore restore) {
        List<PageRange> all = new ArrayList<>();
        for (List<PageRange> batch = session.next(); !batch.isEmpty(); batch = session.next()) {
            all.addAll(batch);
            restore.load(batch);
        }
        return all;
    }

    @Test
    void backgroundYieldsTheProfileRunsInFirstTouchOrderInBoundedBatchesThenNothing() {
        FakeRestore restore = FakeRestore.of(1000).withWorkingSet(PROFILE).with("batchKiB", 1024);
        PolicySession session = policy().start(restore);
        List<PageRange> first = session.next();
        assertEquals(List.of(new PageRange(500, 4), new PageRange(10, 2), new PageRange(900, 100), new PageRange(100, 1)), first,
                "the run past memory is clipped, the run beyond it dropped");
        restore.load(first);
        assertEquals(List.of(), session.next());
        assertEquals(107, restore.loadedPages());
    }

    @Test
    void aLargeRunIsSplitAcrossBatches() {
        FakeRestore restore = FakeRestore.of(4096).withWorkingSet(PROFILE).with("batchKiB", 16);
        List<PageRange> all = drain(policy().start(restore), restore);
        assertEquals(List.of(new PageRange(500, 4), new PageRange(10, 2), new PageRange(900, 2), new PageRange(902, 4)), all.subList(0, 4));
        assertTrue(all.stream().skip(2).limit(75).allMatch(r -> r.count() <= 4), all.toString());
        assertEquals(4 + 2 + 300 + 1 + 8, restore.loadedPages());
        assertEquals(2008, all.getLast().end(), "the last run last");
    }

    @Test
    void runsAlreadyLoadedAreSkipped() {
        FakeRestore restore = FakeRestore.of(1000).withWorkingSet(PROFILE);
        restore.load(new PageRange(500, 4));
        restore.load(new PageRange(10, 2));
        assertEquals(new PageRange(900, 100), policy().start(restore).next().getFirst());
    }

    @Test
    void zeroPagesAreLeftOutUnlessAsked() {
        FakeRestore restore = FakeRestore.of(1000).withWorkingSet(List.of(new PageRange(100, 10))).withHoles(new PageRange(103, 2));
        assertEquals(List.of(new PageRange(100, 3), new PageRange(105, 5)), policy().start(restore).next());
        restore.with("skipZeroPages", false);
        assertEquals(List.of(new PageRange(100, 10)), policy().start(restore).next());
    }

    @Test
    void aFaultInTheWorkingSetLoadsTheRestOfItsRunAndTheNextRuns() {
        FakeRestore restore = FakeRestore.of(4096).withWorkingSet(PROFILE).with("faultRuns", 2).with("faultMaxKiB", 4096);
        PolicySession session = policy().start(restore);
        assertEquals(List.of(new PageRange(502, 2), new PageRange(10, 2), new PageRange(900, 300)), session.onFault(501, 0));
        assertEquals(List.of(new PageRange(501, 3), new PageRange(10, 2), new PageRange(900, 251)), policy().start(restore.with("faultMaxKiB", 1024)).onFault(500, 0), "the default limit of 256 pages");
        assertEquals(List.of(new PageRange(100, 1), new PageRange(2000, 8)), session.onFault(1199, 1), "the last page of a run");
        assertEquals(List.of(), session.onFault(2007, 0), "the last run");
        assertEquals(List.of(), session.onFault(50, 0), "outside the working set");
        assertEquals(List.of(), session.onFault(504, 0), "just after a run");
    }

    @Test
    void aFaultLoadsAtMostTheFaultLimit() {
        FakeRestore restore = FakeRestore.of(4096).withWorkingSet(PROFILE).with("faultMaxKiB", 8).with("faultRuns", 100);
        assertEquals(List.of(new PageRange(11, 1), new PageRange(900, 1)), policy().start(restore).onFault(10, 0));
    }

    @Test
    void runsThatMeetInMemoryLoadAsOneWhereTheirEarliestPageWasTouched() {
        // A block touched in random order: 8 one-page runs, then a separate run touched in between.
        List<PageRange> profile = List.of(new PageRange(205, 1), new PageRange(200, 1), new PageRange(600, 2),
                new PageRange(207, 1), new PageRange(201, 4), new PageRange(206, 1));
        FakeRestore restore = FakeRestore.of(1000).withWorkingSet(profile);
        PolicySession session = policy().start(restore);
        assertEquals(List.of(new PageRange(200, 8), new PageRange(600, 2)), session.next());
        assertEquals(List.of(new PageRange(204, 4)), session.onFault(203, 0).subList(0, 1), "the rest of the merged run");
    }

    @Test
    void descriptionNamesTheFallback() {
        assertTrue(policy().description().contains("without a profile"), policy().description());
    }

    @Test
    void aConfigurationChangeAppliesAndOneWithABadValueIsRefusedThePreviousStaying() {
        HotPageFirstPolicy p = new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class));
        p.modified(ConfigProxy.of(HotPageFirstPolicy.Config.class, Map.of("faultMaxKiB", 8L, "faultRuns", 100L)));
        FakeRestore restore = FakeRestore.of(4096).withWorkingSet(PROFILE);
        assertEquals(List.of(new PageRange(11, 1), new PageRange(900, 1)), p.start(restore).onFault(10, 0));
        p.modified(ConfigProxy.of(HotPageFirstPolicy.Config.class, Map.of("faultMaxKiB", 2L, "faultRuns", 100L)));
        assertEquals(List.of(new PageRange(11, 1), new PageRange(900, 1)), p.start(restore).onFault(10, 0),
                "faultMaxKiB 2 (below 4) refused: the 8 KiB limit stays");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HotPageFirstPolicy.check(ConfigProxy.of(HotPageFirstPolicy.Config.class, Map.of("faultRuns", 5000L))));
        assertEquals("hot-page-first: faultRuns 5000 is out of range (0 to 4096)", e.getMessage());
    }
}

package dev.thaw.qemu.postcopy.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.api.policy.RestoreView;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.qemu.postcopy.impl.RecordingDestination.PageRecord;
import dev.thaw.samples.impl.PackedSamples;
import dev.thaw.support.policy.guard.PolicyCalls;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A third party's policy that never returns from onFault or next() cannot hold up a QEMU restore: after
 * {@link PolicyCalls#HUNG_CALL_NANOS} the source disables it, leaves it its thread, and sends every page without
 * it, the requested one alone and the rest in address order; the figures say why.
 */
class HungPolicyWireTest {

    @TempDir
    Path dir;
    Path file;
    /** Lets the hung policy return once the test is over, so that it leaves no thread behind. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicReference<Thread> stuck = new AtomicReference<>();

    @BeforeEach
    void sample() {
        file = new PackedSamples().write("qemu-pc.mr", dir);
    }

    @AfterEach
    void releaseThePolicy() throws InterruptedException {
        release.countDown();
        Thread t = stuck.get();
        if (t != null) {
            t.join(TimeUnit.SECONDS.toMillis(PostcopyWireTest.TIMEOUT_SECONDS));
        }
    }

    @Test
    void aPolicyWhoseNextNeverReturnsIsDisabledAndEveryPageStillGoesInAddressOrder() throws Exception {
        PolicySession hangsInNext = new PolicySession() {
            @Override
            public List<PageRange> next() {
                return hang();
            }
        };
        RecordingDestination.Script quiet = new RecordingDestination.Script() {};
        Result r = serve(hangsInNext, quiet);

        assertEquals("disabled: next did not return within 500 ms", r.stats().policyProblem());
        assertEquals(1, r.stats().policyErrors(), r.stats().toString());
        assertEquals(0, r.stats().faults());
        assertEquals(r.records().size(), r.stats().pagesBackground());
        List<PageRecord> pcRam = r.records().stream().filter(p -> p.block().equals("pc.ram")).toList();
        for (int i = 1; i < pcRam.size(); i++) {
            assertTrue(pcRam.get(i - 1).page() < pcRam.get(i).page(), "pc.ram in address order at record " + i);
        }
    }

    @Test
    void aPolicyWhoseOnFaultNeverReturnsIsDisabledAndTheRequestedPageGoesAloneFirst() throws Exception {
        PolicySession hangsInOnFault = new PolicySession() {
            @Override
            public List<PageRange> onFault(long page, int vcpu) {
                return hang();
            }

            @Override
            public boolean backgroundLoading() {
                return false; // on demand only: what it no longer orders must go all the same
            }
        };
        RecordingDestination.Script asks = new RecordingDestination.Script() {
            @Override
            public byte[] afterPackage(RecordingDestination d) {
                return RecordingDestination.request("pc.ram", 0x1ffe);
            }
        };
        Result r = serve(hangsInOnFault, asks);

        String problem = r.stats().policyProblem();
        assertTrue(problem.matches("disabled: onFault\\(\\d+\\) did not return within 500 ms"), problem);
        assertEquals("pc.ram", r.records().getFirst().block());
        assertEquals(0x1ffe, r.records().getFirst().page());
        assertEquals(1, r.stats().faults());
        assertEquals(1, r.stats().pagesFault());
        assertEquals(0, r.stats().pagesPrefetch());
        assertEquals(r.records().size() - 1, r.stats().pagesBackground());
    }

    private record Result(RestoreStats stats, List<PageRecord> records) {}

    /** Serves the sample under a policy whose session is {@code session}; the migration must complete. */
    private Result serve(PolicySession session, RecordingDestination.Script script) throws Exception {
        try (SnapshotReader reader = new QemuMappedRamFormat().open(file);
                RecordingDestination destination = new RecordingDestination(dir, script)) {
            RestoreStats stats;
            try (PostcopySource source = PostcopySource.start(MigrationFile.of(reader), SocketChannel.open(
                    UnixDomainSocketAddress.of(destination.socket())), "test", policy(session), Map.of())) {
                stats = source.completion().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            destination.done().get(PostcopyWireTest.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertEquals(RestoreStats.Phase.COMPLETE, stats.phase());
            assertFalse(stuck.get() == null, "the policy was asked and hung");
            assertTrue(stuck.get().isAlive(), "the hung call is left to the policy, not waited for");
            PostcopyWireTest.assertEveryPageOnceAsTheFileHoldsIt(reader, destination.records());
            return new Result(stats, destination.records());
        }
    }

    /** Never returns while the test runs, interrupted or not: as a policy stuck in a loop or a lock would. */
    private List<PageRange> hang() {
        stuck.set(Thread.currentThread());
        while (release.getCount() > 0) {
            try {
                release.await();
            } catch (InterruptedException e) {
                // a hung policy does not care
            }
        }
        return List.of();
    }

    private static PagePolicy policy(PolicySession session) {
        return new PagePolicy() {
            @Override
            public String name() {
                return "hangs";
            }

            @Override
            public String description() {
                return "a policy whose calls never return";
            }

            @Override
            public PolicySession start(RestoreView restore) {
                return session;
            }
        };
    }
}

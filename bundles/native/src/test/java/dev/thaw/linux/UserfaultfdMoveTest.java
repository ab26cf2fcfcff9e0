package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.thaw.testing.RequiresUserfaultfd;
import dev.thaw.testing.Smaps;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * UFFDIO_MOVE for real: a huge page filled in a staging mapping moves whole into a registered range, the thread
 * waiting on a page of it wakes to its data, and the range stays one mapping, registered. The waiting access is
 * the kernel's (madvise(MADV_POPULATE_READ) on another thread), never Java code's.
 */
@RequiresUserfaultfd
@Timeout(30)
class UserfaultfdMoveTest {

    private static final long HUGE = 2L << 20;
    private static final long PAGE = Libc.pageSize();
    private static final int RW = Libc.PROT_READ | Libc.PROT_WRITE;
    private static final int FLAGS = Libc.MAP_PRIVATE | Libc.MAP_NORESERVE;

    @Test
    void aHugePageMovesWholeIntoARegisteredRangeAndWakesItsWaiter() throws Exception {
        assumeTrue(Userfaultfd.offers(Userfaultfd.UFFD_FEATURE_MOVE), "a kernel before 6.8: no UFFDIO_MOVE");
        assumeTrue(TransparentHugePages.anonymousSize() == HUGE, "no 2 MiB transparent huge pages for madvise here");
        try (Userfaultfd uffd = Userfaultfd.open(Libc.O_CLOEXEC | Libc.O_NONBLOCK);
                Mapping guest = Mapping.isolated(2 * HUGE, RW, FLAGS);
                Mapping staging = Mapping.aligned(HUGE, HUGE, RW, FLAGS)) {
            // Advised huge pages, a fault in the range leaves no page table behind (the huge-page fault path hands it
            // to the userfaultfd at once), so the move can still put a huge page there whole.
            Libc.madvise(guest.address(), guest.size(), Libc.MADV_HUGEPAGE);
            uffd.api(Userfaultfd.UFFD_FEATURE_THREAD_ID | Userfaultfd.UFFD_FEATURE_MOVE);
            uffd.register(guest.address(), guest.size(), Userfaultfd.UFFDIO_REGISTER_MODE_MISSING);
            long waited = guest.address() + HUGE + 7 * PAGE;
            CompletableFuture<Void> waiter = CompletableFuture.runAsync(
                    () -> Libc.madvise(waited, PAGE, Libc.MADV_POPULATE_READ), r -> Thread.ofPlatform().daemon().start(r));
            assertEquals(waited, awaitFault(uffd));
            Libc.madvise(staging.address(), HUGE, Libc.MADV_HUGEPAGE);
            for (long i = 0; i < HUGE; i += 8) {
                staging.segment().set(ValueLayout.JAVA_LONG, i, i + 1);
            }
            assertEquals(HUGE, uffd.move(guest.address() + HUGE, staging.address(), HUGE, 0));
            waiter.get(10, TimeUnit.SECONDS);
            assertEquals(7 * PAGE + 1, guest.segment().get(ValueLayout.JAVA_LONG, HUGE + 7 * PAGE));
            assertEquals(HUGE - 8 + 1, guest.segment().get(ValueLayout.JAVA_LONG, 2 * HUGE - 8));
            assertEquals(1, MappingTest.vmasOver(guest.address(), guest.size()).size(), "still one mapping");
            assertTrue(Smaps.anonHugeKiB(guest.address(), guest.size()) >= HUGE >> 10, "moved as a huge page");

            // The range stays registered: a second move there finds its pages present, and the first half still faults.
            Userfaultfd.RangeException present = assertThrows(Userfaultfd.RangeException.class,
                    () -> uffd.move(guest.address() + HUGE, staging.address(), PAGE, 0));
            assertEquals(0, present.completed());
            assertFalse(present.getMessage().isEmpty());
            CompletableFuture<Void> second = CompletableFuture.runAsync(
                    () -> Libc.madvise(guest.address(), PAGE, Libc.MADV_POPULATE_READ), r -> Thread.ofPlatform().daemon().start(r));
            assertEquals(guest.address(), awaitFault(uffd));
            uffd.zeropage(guest.address(), PAGE, 0);
            second.get(10, TimeUnit.SECONDS);
        }
    }

    private static long awaitFault(Userfaultfd uffd) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            var m = uffd.read();
            if (m.isPresent()) {
                return m.get().address() & -PAGE;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("no fault within 10 s");
    }
}

package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.testing.RequiresUserfaultfd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * userfaultfd for real on anonymous memory. The faulting access is made by the kernel on behalf of
 * another thread (a write(2) of the registered page into an eventfd), so that thread waits in native
 * code, as a vCPU in KVM_RUN would, never in Java code where it could hold up a safepoint.
 */
@RequiresUserfaultfd
@Timeout(30)
class UserfaultfdTest {

    private static final long PAGE = Libc.pageSize();
    private static final long PATTERN = 0x0123_4567_89ab_cdefL;

    @Test
    void aMissingPageFaultIsReportedAndServedWithCopyAndASecondCopySaysEexist() throws Exception {
        try (Userfaultfd uffd = Userfaultfd.open(Libc.O_CLOEXEC | Libc.O_NONBLOCK);
                Mapping memory = Mapping.anonymous(4 * PAGE, Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_PRIVATE | Libc.MAP_NORESERVE);
                Arena arena = Arena.ofConfined()) {
            Userfaultfd.Api api = uffd.api(Userfaultfd.UFFD_FEATURE_THREAD_ID);
            assertEquals(Userfaultfd.UFFD_API, api.api());
            assertTrue((api.features() & Userfaultfd.UFFD_FEATURE_THREAD_ID) != 0);
            long ioctls = uffd.register(memory.address(), memory.size(), Userfaultfd.UFFDIO_REGISTER_MODE_MISSING);
            assertTrue((ioctls & (1L << 3)) != 0, "UFFDIO_COPY allowed on the range");
            assertEquals(Optional.empty(), uffd.read(), "no fault yet");

            long target = memory.address() + PAGE;
            int eventfd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            try {
                CompletableFuture<Integer> faulterTid = new CompletableFuture<>();
                Thread faulter = Thread.ofPlatform().name("uffd-faulter").start(() -> {
                    faulterTid.complete(Libc.gettid());
                    // The kernel reads 8 bytes of the missing page: the fault blocks this thread in write(2).
                    Libc.write(eventfd, memory.segment().asSlice(PAGE + 16, 8));
                });
                int tid = faulterTid.get(5, TimeUnit.SECONDS);

                assertEquals(Libc.POLLIN, uffd.poll(5_000) & Libc.POLLIN, "a fault arrives");
                Userfaultfd.Message message = uffd.read().orElseThrow();
                assertTrue(message.isPagefault(), message.toString());
                assertEquals(target, message.address());
                assertEquals(0, message.flags() & Userfaultfd.UFFD_PAGEFAULT_FLAG_WRITE, "a read fault");
                assertEquals(tid, message.ptid(), "feat.ptid names the faulting thread");
                assertTrue(faulter.isAlive(), "the faulting thread waits for the page");

                MemorySegment source = arena.allocate(PAGE, PAGE);
                source.set(ValueLayout.JAVA_LONG, 16, PATTERN);
                assertEquals(PAGE, uffd.copy(target, source.address(), PAGE, 0));
                faulter.join(5_000);
                assertTrue(!faulter.isAlive(), "UFFDIO_COPY woke the faulting thread");
                try (Arena small = Arena.ofConfined()) {
                    MemorySegment counter = small.allocate(8);
                    Libc.read(eventfd, counter);
                    assertEquals(PATTERN, counter.get(ValueLayout.JAVA_LONG, 0), "the thread read the copied bytes");
                }
                assertEquals(PATTERN, memory.segment().get(ValueLayout.JAVA_LONG, PAGE + 16));

                Userfaultfd.RangeException again = assertThrows(Userfaultfd.RangeException.class,
                        () -> uffd.copy(target, source.address(), PAGE, 0));
                assertTrue(again.alreadyExists(), again.getMessage());
                assertEquals(Errno.EEXIST, again.errno());
                assertTrue(again.getMessage().startsWith("UFFDIO_COPY failed: EEXIST"), again.getMessage());

                long zeroPage = memory.address() + 2 * PAGE;
                assertEquals(PAGE, uffd.zeropage(zeroPage, PAGE, 0));
                assertEquals(0L, memory.segment().get(ValueLayout.JAVA_LONG, 2 * PAGE), "zero page mapped, no fault");
                Userfaultfd.RangeException zeroAgain = assertThrows(Userfaultfd.RangeException.class,
                        () -> uffd.zeropage(zeroPage, PAGE, 0));
                assertTrue(zeroAgain.alreadyExists(), zeroAgain.getMessage());
            } finally {
                Libc.close(eventfd);
            }
            uffd.wake(memory.address(), memory.size());
            uffd.unregister(memory.address(), memory.size());
            // Unregistered: a missing page is now an ordinary zero-fill fault.
            assertEquals(0L, memory.segment().get(ValueLayout.JAVA_LONG, 3 * PAGE));
        }
    }
}

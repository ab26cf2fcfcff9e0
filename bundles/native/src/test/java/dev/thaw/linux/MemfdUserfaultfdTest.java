package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.testing.RequiresUserfaultfd;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kernel behaviours the restore engine's shared page cache relies on (docs/shared-fleets.md), on this
 * kernel: a memfd filled through a MAP_SHARED mapping, mapped MAP_PRIVATE over "guest memory" and
 * registered MISSING|MINOR. Faulting accesses are made from native code (write(2) from the page, or
 * madvise(MADV_POPULATE_WRITE)), never from Java code.
 */
@RequiresUserfaultfd
@Timeout(30)
class MemfdUserfaultfdTest {

    private static final long PAGE = Libc.pageSize();
    private static final int PAGES = 16;

    @Test
    void aPrivateMappingOfAMemfdFaultsMinorOnCachedPagesMissingOnHolesAndCopiesOnWrite() throws Exception {
        try (Memfd memfd = Memfd.create("thaw-test", Memfd.MFD_CLOEXEC)) {
            memfd.truncate(PAGES * PAGE);
            assertEquals(PAGES * PAGE, memfd.size());
            assertEquals(0, memfd.allocatedBytes(), "a grown memfd is all holes");
            try (Mapping cache = Mapping.file(memfd.fd(), PAGES * PAGE, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_SHARED | Libc.MAP_NORESERVE, 0);
                    Mapping guest = Mapping.anonymous(PAGES * PAGE, Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_PRIVATE | Libc.MAP_NORESERVE);
                    Userfaultfd uffd = Userfaultfd.open(Libc.O_CLOEXEC | Libc.O_NONBLOCK)) {
                for (int p = 0; p < 8; p++) {
                    cache.segment().asSlice(p * PAGE, PAGE).fill((byte) ('a' + p)); // pages 0..7 cached
                }
                assertEquals(8 * PAGE, memfd.allocatedBytes());
                // Over the guest memory where it is, as the engine does over a runtime's mapping.
                assertEquals(guest.address(), Libc.mmap(guest.address(), guest.size(), Libc.PROT_READ | Libc.PROT_WRITE,
                        Libc.MAP_FIXED | Libc.MAP_PRIVATE | Libc.MAP_NORESERVE, memfd.fd(), 0));
                Userfaultfd.Api api = uffd.api(Userfaultfd.UFFD_FEATURE_THREAD_ID | Userfaultfd.UFFD_FEATURE_MINOR_SHMEM);
                assertTrue((api.features() & Userfaultfd.UFFD_FEATURE_MINOR_SHMEM) != 0);
                long ioctls = uffd.register(guest.address(), guest.size(),
                        Userfaultfd.UFFDIO_REGISTER_MODE_MISSING | Userfaultfd.UFFDIO_REGISTER_MODE_MINOR);
                assertTrue((ioctls & (1L << 7)) != 0 && (ioctls & (1L << 4)) != 0, "CONTINUE and ZEROPAGE allowed");

                // A read of a cached page: MINOR; UFFDIO_CONTINUE maps the memfd's page.
                CompletableFuture<Long> read = readLater(guest, 2);
                Userfaultfd.Message minor = next(uffd);
                assertEquals(guest.address() + 2 * PAGE, minor.address());
                assertTrue((minor.flags() & Userfaultfd.UFFD_PAGEFAULT_FLAG_MINOR) != 0, "MINOR: " + minor);
                assertEquals(PAGE, uffd.continuePages(minor.address(), PAGE, 0));
                assertEquals(0x6363636363636363L, read.get(5, TimeUnit.SECONDS), "the cache's bytes ('c')");

                // A write to a cached page: MINOR, then the page is mapped read-only and the write copies it.
                CompletableFuture<Void> write = populateWriteLater(guest, 5);
                Userfaultfd.Message writeFault = next(uffd);
                assertTrue((writeFault.flags() & Userfaultfd.UFFD_PAGEFAULT_FLAG_MINOR) != 0, writeFault.toString());
                assertTrue((writeFault.flags() & Userfaultfd.UFFD_PAGEFAULT_FLAG_WRITE) != 0, writeFault.toString());
                uffd.continuePages(writeFault.address(), PAGE, 0);
                write.get(5, TimeUnit.SECONDS);
                byte[] w = new byte[8];
                java.util.Arrays.fill(w, (byte) 'W');
                writeInto(guest, 5, w); // the page is the guest's own now: no fault
                assertEquals(0x5757575757575757L, readLater(guest, 5).get(5, TimeUnit.SECONDS));
                assertEquals((byte) 'f', cache.segment().get(ValueLayout.JAVA_BYTE, 5 * PAGE), "the memfd is unchanged");

                // A hole: MISSING; UFFDIO_ZEROPAGE takes the anonymous path (the memfd stays a hole there).
                CompletableFuture<Long> hole = readLater(guest, 12);
                Userfaultfd.Message missing = next(uffd);
                assertEquals(0, missing.flags() & Userfaultfd.UFFD_PAGEFAULT_FLAG_MINOR, "MISSING: " + missing);
                assertEquals(PAGE, uffd.zeropage(missing.address(), PAGE, 0));
                assertEquals(0L, hole.get(5, TimeUnit.SECONDS));
                assertEquals(8 * PAGE, memfd.allocatedBytes(), "no page added to the memfd");

                // A hole filled after its MISSING fault: UFFDIO_CONTINUE serves it.
                CompletableFuture<Long> late = readLater(guest, 13);
                Userfaultfd.Message lateFault = next(uffd);
                cache.segment().asSlice(13 * PAGE, PAGE).fill((byte) 'n');
                uffd.continuePages(lateFault.address(), PAGE, 0);
                assertEquals(0x6e6e6e6e6e6e6e6eL, late.get(5, TimeUnit.SECONDS));

                // Without a fault, a range at once; again: EEXIST; a page the memfd does not hold: EFAULT.
                assertEquals(2 * PAGE, uffd.continuePages(guest.address(), 2 * PAGE, 0));
                Userfaultfd.RangeException again = assertThrows(Userfaultfd.RangeException.class,
                        () -> uffd.continuePages(guest.address() + 2 * PAGE, PAGE, 0));
                assertTrue(again.alreadyExists(), again.getMessage());
                Userfaultfd.RangeException notHeld = assertThrows(Userfaultfd.RangeException.class,
                        () -> uffd.continuePages(guest.address() + 14 * PAGE, PAGE, 0));
                assertEquals(Errno.EFAULT, notHeld.errno(), notHeld.getMessage());
                assertTrue(notHeld.getMessage().startsWith("UFFDIO_CONTINUE failed: EFAULT"), notHeld.getMessage());
                uffd.unregister(guest.address(), guest.size());
            }
        }
    }

    private static Userfaultfd.Message next(Userfaultfd uffd) {
        assertEquals(Libc.POLLIN, uffd.poll(5_000) & Libc.POLLIN, "a fault arrives");
        Userfaultfd.Message m = uffd.read().orElseThrow();
        assertTrue(m.isPagefault(), m.toString());
        return m;
    }

    /**
     * Reads the page's first 8 bytes on another thread: write(2) of them into a file, so that a fault
     * happens in the kernel while the thread is in native code.
     */
    private static CompletableFuture<Long> readLater(Mapping guest, int page) throws IOException {
        Path out = Files.createTempFile("thaw-memfd", ".bin");
        CompletableFuture<Long> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                int fd = Libc.open(out.toString(), 1 /* O_WRONLY */ | Libc.O_CLOEXEC);
                try {
                    Libc.write(fd, guest.segment().asSlice(page * PAGE, 8));
                } finally {
                    Libc.close(fd);
                }
                result.complete(ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN).getLong());
                Files.delete(out);
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private static CompletableFuture<Void> populateWriteLater(Mapping guest, int page) {
        return CompletableFuture.runAsync(() -> Libc.madvise(guest.address() + page * PAGE, PAGE,
                Libc.MADV_POPULATE_WRITE), r -> Thread.ofPlatform().daemon().start(r));
    }

    /** read(2) into the guest page from a file of {@code bytes}: the kernel writes it. */
    private static void writeInto(Mapping guest, int page, byte[] bytes) throws IOException {
        Path f = Files.createTempFile("thaw-memfd", ".bin");
        try {
            Files.write(f, bytes);
            int fd = Libc.open(f.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            try {
                assertEquals(bytes.length, Libc.read(fd, guest.segment().asSlice(page * PAGE, bytes.length)));
            } finally {
                Libc.close(fd);
            }
        } finally {
            Files.delete(f);
        }
    }
}

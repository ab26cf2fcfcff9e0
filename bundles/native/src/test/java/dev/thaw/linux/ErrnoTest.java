package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void errnoValuesHaveTheirCNamesAndDescriptions() {
        assertEquals("EINVAL", Errno.name(Errno.EINVAL));
        assertEquals("Invalid argument", Errno.description(Errno.EINVAL));
        assertEquals("EINTR", Errno.name(Errno.EINTR));
        assertEquals("EAGAIN", Errno.name(Errno.EAGAIN));
        assertEquals("EEXIST", Errno.name(Errno.EEXIST));
        assertEquals("errno 4711", Errno.name(4711));
    }

    @Test
    void aFailedCallNamesTheCallAndTheErrno() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.open("/nonexistent/thaw", Libc.O_RDONLY));
        assertEquals("open", e.call());
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().startsWith("open failed: ENOENT (No such file or directory)"), e.getMessage());
        assertFalse(e.interrupted() || e.wouldBlock() || e.alreadyExists());
    }

    @Test
    void harmlessErrnosAreNamed() {
        assertTrue(new ErrnoException("KVM_RUN", Errno.EINTR).interrupted());
        assertTrue(new ErrnoException("read", Errno.EAGAIN).wouldBlock());
        assertTrue(new ErrnoException("UFFDIO_COPY", Errno.EEXIST).alreadyExists());
        assertEquals("KVM_SET_SREGS failed: EINVAL (Invalid argument)",
                new ErrnoException("KVM_SET_SREGS", Errno.EINVAL).getMessage());
    }

    @Test
    void pollingAnEmptyNonBlockingEventfdSaysEagain() {
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.read(fd, arena.allocate(8)));
            assertTrue(e.wouldBlock(), e.getMessage());
            assertEquals(0, Libc.poll(fd, Libc.POLLIN, 0));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void pwriteWritesAtItsOffsetWithoutMovingTheFileAndNamesItselfWhenItFails() {
        try (Memfd memfd = Memfd.create("thaw-pwrite", Memfd.MFD_CLOEXEC); var arena = java.lang.foreign.Arena.ofConfined()) {
            memfd.truncate(3 * 4096);
            var page = arena.allocate(4096);
            page.fill((byte) 0x5a);
            assertEquals(4096, Libc.pwrite(memfd.fd(), page, 8192));
            var back = arena.allocate(3 * 4096);
            assertEquals(3 * 4096, Libc.pread(memfd.fd(), back, 0));
            for (long i = 0; i < 3 * 4096; i++) {
                assertEquals(i >= 8192 ? (byte) 0x5a : 0, back.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            assertEquals(4096, memfd.allocatedBytes(), "only the page written takes memory");
            ErrnoException e = assertThrows(ErrnoException.class, () -> Libc.pwrite(-1, page, 0));
            assertTrue(e.getMessage().startsWith("pwrite failed: EBADF"), e.getMessage());
        }
    }

    @Test
    void aSignalCanBeBlockedSentToThisThreadAndTakenWithoutAHandler() {
        long urg = Libc.sigbit(Libc.SIGURG);
        long old = Libc.pthreadSigmask(Libc.SIG_BLOCK, urg);
        try {
            assertEquals(0, Libc.sigtimedwait(urg, 0), "nothing pending yet");
            Libc.tgkill(Libc.getpid(), Libc.gettid(), Libc.SIGURG);
            assertEquals(Libc.SIGURG, Libc.sigtimedwait(urg, 0));
            assertEquals(0, Libc.sigtimedwait(urg, 0), "taken once");
        } finally {
            Libc.pthreadSigmask(Libc.SIG_SETMASK, old);
        }
    }
}

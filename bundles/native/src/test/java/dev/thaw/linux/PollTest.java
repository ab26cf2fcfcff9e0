package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.thaw.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class PollTest {

    /**
     * The JVM interrupts threads in native code with signals (JFR's sampler suspends them with SIGUSR2);
     * a poll that ended with EINTR there stopped the lazy restore's fault service. Here the thread gets
     * that signal five times while it waits, and must go on waiting until the eventfd is written.
     */
    @Test
    void signalsDuringTheWaitDoNotEndIt() throws Exception {
        int efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        try {
            CompletableFuture<Integer> tid = new CompletableFuture<>();
            CompletableFuture<Integer> revents = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().name("poll-waiter").start(() -> {
                tid.complete(Libc.gettid());
                try {
                    revents.complete(Libc.poll(efd, Libc.POLLIN, 50_000));
                } catch (Throwable t) {
                    revents.completeExceptionally(t);
                }
            });
            Path wchan = Path.of("/proc/self/task/" + tid.get(10, TimeUnit.SECONDS) + "/wchan");
            for (int signal = 0; signal < 5; signal++) {
                Await.until("the waiter sleeps in poll", Duration.ofSeconds(10), () -> inPoll(wchan) || revents.isDone());
                assertFalse(revents.isDone(), () -> "poll returned early: " + revents);
                Libc.tgkill(Libc.getpid(), tid.join(), Libc.SIGUSR2);
            }
            Await.until("the waiter sleeps in poll again", Duration.ofSeconds(10), () -> inPoll(wchan) || revents.isDone());
            assertFalse(revents.isDone(), () -> "poll ended at a signal: " + revents);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
                one.set(ValueLayout.JAVA_LONG, 0, 1);
                Libc.write(efd, one);
            }
            assertEquals(Libc.POLLIN, revents.get(10, TimeUnit.SECONDS) & Libc.POLLIN);
            waiter.join();
        } finally {
            Libc.close(efd);
        }
    }

    /** Whether the thread whose wchan file this is sleeps in the kernel's poll. */
    private static boolean inPoll(Path wchan) {
        try {
            return Files.readString(wchan).contains("poll");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.thaw.support.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.VmException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ConsoleLogTest {

    final ConsoleLog log = new ConsoleLog();

    void print(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        log.write(b, 0, b.length);
    }

    @Test
    void resultLinesAreCountedOnlyWhenComplete() {
        print("thaw-guest 1\nresult fill 00");
        assertEquals(0, log.resultCount());
        print("00000000000001\r\n");
        assertEquals(1, log.resultCount());
        assertEquals("result fill 0000000000000001", log.awaitResult(0, Duration.ofSeconds(1), () -> "vm"));
    }

    @Test
    void awaitLineFindsOnlyLinesStartingAfterTheMark() {
        print("result function 1\n");
        long mark = log.bytesWritten();
        print("noise result function 2\nresult function 3\n");
        assertEquals("result function 3", log.awaitLine("result function", mark, Duration.ofSeconds(1), () -> "vm"));
    }

    @Test
    void aWaiterIsWokenByTheLineItWaitsFor() throws Exception {
        CompletableFuture<String> waiter = CompletableFuture.supplyAsync(() -> log.awaitResult(0, Duration.ofSeconds(10), () -> "vm"));
        print("result touch abc\n");
        assertEquals("result touch abc", waiter.get());
    }

    @Test
    void aTaskWaitingForResultsRunsOnceWhenTheirCountIsReachedAndNotAfterTheVmEnds() {
        List<String> ran = new ArrayList<>();
        log.restore("result function 1\n", 18, 1); // one result in the snapshot's history
        log.whenResults(1, () -> ran.add("already"));
        log.whenResults(2, () -> ran.add("second"));
        log.whenResults(3, () -> ran.add("never"));
        assertEquals(List.of("already"), ran);
        print("result function 2");
        assertEquals(List.of("already"), ran, "a line counts once complete");
        print("\nresult function 3\n".substring(0, 1));
        assertEquals(List.of("already", "second"), ran);
        log.end("stopped");
        print("result function 3\n");
        assertEquals(List.of("already", "second"), ran, "dropped when the VM ended");
        log.whenResults(1, () -> ran.add("late"));
        assertEquals(List.of("already", "second"), ran, "none taken after the end");
    }

    @Test
    void waitersFailWithTheReasonWhenTheVmEnds() {
        log.end("guest exited with code 3");
        VmException e = assertThrows(VmException.class, () -> log.awaitResult(0, Duration.ofSeconds(10), () -> "vm7"));
        assertEquals("vm7: no result line 1: guest exited with code 3", e.getMessage());
    }

    @Test
    void waitingHasATimeout() {
        assertThrows(VmException.class, () -> log.awaitResult(0, Duration.ofMillis(50), () -> "vm"));
    }

    @Test
    void keepsOnlyTheNewestBytesButCountsAll() {
        assertNull(log.firstOutput());
        byte[] chunk = new byte[ConsoleLog.RETAINED / 4];
        java.util.Arrays.fill(chunk, (byte) 'x');
        for (int i = 0; i < 6; i++) {
            log.write(chunk, 0, chunk.length);
        }
        assertEquals(ConsoleLog.RETAINED, log.text().length());
        assertEquals(6L * chunk.length, log.bytesWritten());
        assertTrue(log.firstOutput() != null);
    }
}

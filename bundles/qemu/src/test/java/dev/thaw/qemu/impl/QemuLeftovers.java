package dev.thaw.qemu.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** What the qemu runtime and its postcopy source start per VM, looked for once a test has stopped its VMs. */
final class QemuLeftovers {

    /** Names of the threads a VM of the qemu runtime or its serve runs: its COM1 reader, its failure, the postcopy source. */
    static final List<String> PREFIXES = List.of("qemu-com1-", "fail-", "thaw-postcopy-");

    private QemuLeftovers() {}

    /** Closes {@code platform} (stopping its VMs) and asserts that no QEMU and no thread of theirs is left. */
    static void assertNoneAfterClosing(QemuPlatform platform) {
        platform.close();
        assertEquals(List.of(), QemuPlatform.qemusLeft(), "QEMU processes left behind");
        assertEquals(List.of(), threads(), "threads left behind");
    }

    /**
     * The live threads so named, after up to 10 s for those ending already (a failure's thread closes QEMU on its
     * own time).
     */
    static List<String> threads() {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> left = named();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(10_000_000);
            left = named();
        }
        return left;
    }

    private static List<String> named() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> PREFIXES.stream().anyMatch(n::startsWith)).sorted().toList();
    }
}

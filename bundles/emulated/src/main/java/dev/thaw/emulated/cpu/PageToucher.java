package dev.thaw.emulated.cpu;

/**
 * Makes a guest page present before the interpreter first reads or writes it from Java. Guest RAM may
 * be registered with userfaultfd by a lazy restore, and a Java thread must never take that fault in
 * Java code (a safepoint would wait for it forever while the fault service waits for the safepoint):
 * the runtime touches the page through a native call ({@code madvise(MADV_POPULATE_READ/WRITE)}), so
 * the thread waits "in native" while the fault is served.
 */
@FunctionalInterface
public interface PageToucher {

    /** Makes the 4 KiB host page at {@code hostAddress} present, for writing if {@code write}. */
    void touch(long hostAddress, boolean write);
}

package dev.thaw.qemu.postcopy.impl;

import dev.thaw.qemu.postcopy.impl.PageScheduler.Request;

/**
 * The pages of one RAM part, in the order they go, each with why it goes: a request, a policy's prefetch with a
 * request, or the background. Filled by {@link PageScheduler}, written by the sender, reused.
 */
final class Batch {

    enum Cause { REQUEST, PREFETCH, BACKGROUND }

    private final long[] pages;
    private final Cause[] causes;
    /** For a requested page: its request, whose wait ends when the part is written. */
    private final Request[] requests;
    private int size;

    Batch(int capacity) {
        pages = new long[capacity];
        causes = new Cause[capacity];
        requests = new Request[capacity];
    }

    void clear() {
        java.util.Arrays.fill(requests, 0, size, null);
        size = 0;
    }

    void add(long page, Cause cause, Request request) {
        pages[size] = page;
        causes[size] = cause;
        requests[size] = request;
        size++;
    }

    int size() {
        return size;
    }

    boolean full() {
        return size == pages.length;
    }

    int capacity() {
        return pages.length;
    }

    long page(int i) {
        return pages[i];
    }

    Cause cause(int i) {
        return causes[i];
    }

    Request request(int i) {
        return requests[i];
    }
}

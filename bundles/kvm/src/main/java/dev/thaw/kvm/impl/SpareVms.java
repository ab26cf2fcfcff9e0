package dev.thaw.kvm.impl;

import dev.thaw.api.runtime.MemoryRange;
import dev.thaw.kvm.VmOptions;
import dev.thaw.linux.Mapping;
import dev.thaw.linux.kvm.VmFd;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empty VMs made ahead: a VM fd with its identity-map and TSS addresses set and its memory mapped and
 * registered, nothing else (no irqchip, no vCPU, no page touched). {@link #PER_LAYOUT} per layout asked
 * for, for the {@code capacity} layouts asked for last, made on one background thread; a spare taken is
 * made again.
 */
final class SpareVms implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpareVms.class);

    /** What makes two VMs interchangeable: every creation option but the name, and the memory. */
    record Shape(boolean pit, long tssAddress, long identityMapAddress, List<MemoryRange> memory) {
        Shape {
            memory = List.copyOf(memory);
        }

        static Shape of(VmOptions options, List<MemoryRange> memory) {
            return new Shape(options.pit(), options.tssAddress(), options.identityMapAddress(), memory);
        }
    }

    /** A made VM fd and its memory, one mapping per range, registered as slots 0, 1, ... */
    record Spare(VmFd vm, List<Mapping> mappings) {
        void close() {
            RuntimeException failure = null;
            for (Mapping m : mappings) {
                failure = KvmVm.closeQuietly(m, failure);
            }
            failure = KvmVm.closeQuietly(vm, failure);
            if (failure != null) {
                LOG.warn("closing a spare VM failed: {}", failure.getMessage());
            }
        }
    }

    /** How long after a take the next spare is begun. */
    static final long REFILL_DELAY_MILLIS = 10;
    /** Spares kept per layout: restores in quick succession each find one while the next is made. */
    static final int PER_LAYOUT = 2;

    private int capacity; // guarded by this
    private final Function<Shape, Spare> maker;
    private final ScheduledExecutorService thread;
    /** Most recently asked for last. Guarded by this, as are the others. */
    private final Set<Shape> wanted = new LinkedHashSet<>();
    private final Map<Shape, Deque<Spare>> ready = new HashMap<>();
    private final Set<Shape> making = new HashSet<>();
    private boolean closed;

    SpareVms(int capacity, Function<Shape, Spare> maker) {
        this.capacity = capacity;
        this.maker = maker;
        this.thread = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("thaw-spare-vms").unstarted(r));
    }

    /**
     * The spare of this shape, or null; either way another is made for the next call, a moment later,
     * so that making it does not compete for the CPU with the VM being set up from this one.
     */
    synchronized Spare take(Shape shape) {
        Deque<Spare> spares = ready.get(shape);
        Spare spare = spares == null ? null : spares.pollFirst();
        want(shape, REFILL_DELAY_MILLIS);
        return spare;
    }

    /** Keeps a spare of this shape ready from now on (making it if needed), dropping the least recent beyond capacity. */
    synchronized void want(Shape shape) {
        want(shape, 0);
    }

    private void want(Shape shape, long delayMillis) {
        if (capacity == 0 || closed) {
            return;
        }
        wanted.remove(shape);
        wanted.add(shape);
        trim();
        if (count(shape) < PER_LAYOUT && making.add(shape)) {
            thread.schedule(() -> make(shape), delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    private int count(Shape shape) {
        Deque<Spare> spares = ready.get(shape);
        return spares == null ? 0 : spares.size();
    }

    private void make(Shape shape) {
        Spare spare = null;
        try {
            spare = maker.apply(shape);
        } catch (RuntimeException e) {
            LOG.warn("cannot make a spare VM with memory {}: {}", shape.memory(), e.getMessage());
        }
        synchronized (this) {
            making.remove(shape);
            if (spare != null && (closed || !wanted.contains(shape) || count(shape) >= PER_LAYOUT)) {
                spare.close();
            } else if (spare != null) {
                ready.computeIfAbsent(shape, s -> new ArrayDeque<>()).addLast(spare);
                want(shape, 0); // the next one, up to PER_LAYOUT
            }
        }
    }

    /** Keeps spares for the {@code layouts} layouts asked for last from now on (0: none), closing the others. */
    synchronized void capacity(int layouts) {
        capacity = layouts;
        trim();
    }

    synchronized int capacity() {
        return capacity;
    }

    /** Drops the least recent layouts beyond capacity, closing their spares. Caller holds this. */
    private void trim() {
        while (wanted.size() > capacity) {
            Shape oldest = wanted.iterator().next();
            wanted.remove(oldest);
            Deque<Spare> dropped = ready.remove(oldest);
            if (dropped != null) {
                dropped.forEach(Spare::close);
            }
        }
    }

    /** Spares ready now (for tests). */
    synchronized int ready() {
        return ready.values().stream().mapToInt(Deque::size).sum();
    }

    /** Closes every spare, after the one being made, if any. */
    @Override
    public void close() {
        List<Spare> spares;
        synchronized (this) {
            closed = true;
            spares = ready.values().stream().flatMap(Deque::stream).toList();
            ready.clear();
        }
        spares.forEach(Spare::close);
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("the spare VM thread did not end within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.thaw.qemu.impl;

import dev.thaw.api.device.ConsoleOutput;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Incoming QEMUs started ahead, as the KVM runtime keeps spare VMs: for each of the {@code capacity} machines
 * restored last, {@link #DEPTH} QEMUs started with {@code -incoming defer} whose monitors already answer. A restore,
 * eager or lazy alike, takes one and so begins where QEMU's own start-up has ended; a machine without a spare starts
 * its QEMU then. The runtime asks for the replacement only once the restored guest has settled, so that its
 * start-up takes no CPU from the guest; the second spare serves a restore that comes before that. Spares are made
 * on one background thread; {@link #close()} ends every one of them.
 */
final class SpareIncomingQemus implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpareIncomingQemus.class);
    /** Spares kept per machine. */
    static final int DEPTH = 2;

    /**
     * What makes two incoming QEMUs interchangeable: the program, the accelerator, the machine and the guest image.
     *
     * @param image read only; compared by content
     */
    record Kind(QemuInstallation qemu, String accel, QemuMachine machine, ByteBuffer image) {

        Kind(QemuInstallation qemu, String accel, QemuMachine machine, byte[] image) {
            this(qemu, accel, machine, ByteBuffer.wrap(image.clone()).asReadOnlyBuffer());
        }

        /** An incoming QEMU of this kind, for the VM {@code name}; returns once its monitor answers. */
        QemuProcess start(String name, ConsoleOutput console) {
            return QemuProcess.start(qemu, name, dir -> {
                List<String> options = new ArrayList<>(machine.options(accel));
                // The kernel makes QEMU add its multiboot option ROM, a RAM block the snapshot holds too; QEMU
                // refuses a stream with a block it lacks. The guest booted long ago: no boot module is needed.
                byte[] bytes = new byte[image.remaining()];
                image.duplicate().get(bytes);
                options.addAll(List.of("-kernel", Files.write(dir.resolve("thaw-guest.bin"), bytes).toString(),
                        "-incoming", "defer"));
                return options;
            }, console);
        }
    }

    /** A spare and the console its serial port writes to, which a restore points at its VM's. */
    private record Spare(QemuProcess process, ForwardedConsole console) {}

    /** Until a VM takes the spare nothing reaches it: an incoming QEMU runs no guest code. */
    private static final class ForwardedConsole implements ConsoleOutput {
        private volatile ConsoleOutput target = (data, offset, length) -> { };

        @Override
        public void write(byte[] data, int offset, int length) {
            target.write(data, offset, length);
        }
    }

    private final ExecutorService starter = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("thaw-spare-qemus").unstarted(r));
    /** Per machine, least recently wanted first; each machine's spares oldest first. Guarded by this, as are the others. */
    private final Map<Kind, Deque<CompletableFuture<Spare>>> spares = new LinkedHashMap<>();
    private int capacity;
    private int made;
    private boolean closed;

    /** @param capacity machines to keep a spare for (0: none) */
    SpareIncomingQemus(int capacity) {
        this.capacity = capacity;
    }

    /**
     * An incoming QEMU of {@code kind} for the VM {@code name}, its serial output going to {@code console}: the
     * spare if there is one (waiting for it if it is still starting), else one started now.
     *
     * @throws dev.thaw.api.vm.VmException when QEMU cannot be started, naming the VM
     */
    QemuProcess take(Kind kind, String name, ConsoleOutput console) {
        CompletableFuture<Spare> pending;
        synchronized (this) {
            Deque<CompletableFuture<Spare>> ready = spares.get(kind);
            pending = ready == null ? null : ready.pollFirst();
        }
        if (pending != null) {
            Spare spare = await(pending);
            if (spare != null && spare.process().alive()) {
                spare.process().adoptedBy(name);
                spare.console().target = console;
                return spare.process();
            }
            if (spare != null) {
                LOG.warn("a spare incoming QEMU for {} ended by itself: {}", name, spare.process().lastStderrLine());
                spare.process().close();
            }
        }
        return kind.start(name, console);
    }

    /**
     * Keeps {@link #DEPTH} spares of {@code kind} from now on, starting those missing, dropping the least recently
     * wanted machine's beyond capacity.
     */
    synchronized void want(Kind kind) {
        if (closed || capacity == 0) {
            return;
        }
        Deque<CompletableFuture<Spare>> ready = spares.remove(kind);
        if (ready == null) {
            ready = new ArrayDeque<>();
        }
        while (ready.size() < DEPTH) {
            String name = "spare" + ++made;
            ready.addLast(CompletableFuture.supplyAsync(() -> {
                ForwardedConsole console = new ForwardedConsole();
                return new Spare(kind.start(name, console), console);
            }, starter));
        }
        spares.put(kind, ready);
        trim();
    }

    /** Keeps spares for the {@code machines} wanted last from now on (0: none), ending the others. */
    synchronized void capacity(int machines) {
        capacity = machines;
        trim();
    }

    /** Waits until every spare wanted so far has started (or failed to); returns how many run (for tests). */
    int awaitStarted() {
        List<CompletableFuture<Spare>> pending;
        synchronized (this) {
            pending = spares.values().stream().flatMap(Deque::stream).toList();
        }
        return (int) pending.stream().map(SpareIncomingQemus::await).filter(s -> s != null && s.process().alive()).count();
    }

    private void trim() {
        while (spares.size() > capacity) {
            Kind oldest = spares.keySet().iterator().next();
            spares.remove(oldest).forEach(pending -> pending.thenAccept(spare -> spare.process().close()));
        }
    }

    /** Ends every spare (after the one being started, if any) and the thread that starts them. */
    @Override
    public void close() {
        List<CompletableFuture<Spare>> left;
        synchronized (this) {
            closed = true;
            left = spares.values().stream().flatMap(Deque::stream).toList();
            spares.clear();
        }
        starter.shutdown();
        for (CompletableFuture<Spare> pending : left) {
            Spare spare = await(pending);
            if (spare != null) {
                spare.process().close();
            }
        }
    }

    /** The spare once started; null (logged) when it could not be. */
    private static Spare await(CompletableFuture<Spare> pending) {
        try {
            return pending.get(QemuProcess.START_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        } catch (ExecutionException | CancellationException e) {
            LOG.warn("a spare incoming QEMU could not be started: {}", e.getCause() == null ? e : e.getCause().getMessage());
            return null;
        } catch (TimeoutException e) {
            // QemuProcess.start gives up within START_TIMEOUT: this is a stuck start; close it when it ends
            pending.thenAccept(spare -> spare.process().close());
            LOG.warn("a spare incoming QEMU did not start within {} s", QemuProcess.START_TIMEOUT.toSeconds());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.thenAccept(spare -> spare.process().close());
            return null;
        }
    }
}

package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.WorkingSet;
import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.restore.RestoreStats;
import dev.thaw.api.restore.RestoreStats.Phase;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.qemu.postcopy.impl.Batch.Cause;
import dev.thaw.qemu.postcopy.impl.PageScheduler.Request;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Message;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.PageRequest;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Pong;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.ProtocolException;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Shut;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a QEMU mapped-ram file to an incoming QEMU as the source of its postcopy migration
 * (docs/qemu-postcopy.md): the {@link Preamble} with the device state, then RAM parts of requested pages at
 * once and the rest in the policy's order, every page exactly once, then RAM END and EOF (with a profile to
 * preload, its pages go before the package, so the destination runs only once it has them); done when the
 * destination says SHUT 0. With zero pages on request, a page the file does not hold goes only if the destination
 * asks for it, and EOF waits for the destination's word that its device state is loaded as well as for the last
 * present page: a page QEMU's main thread waits for inside the package must be answered (10.2). Two threads: one sends, one reads the return path from the moment the first byte goes
 * (pages are requested while the package's devices load). Any failure ends both with one line naming the file,
 * the peer and the problem; {@link #close()} ends it at any point. The source owns the channel; the caller keeps
 * the file's reader open until the source has ended.
 */
public final class PostcopySource implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PostcopySource.class);
    /** How long {@link #close()} waits for each thread. */
    static final long JOIN_MILLIS = 5_000;

    private final MigrationFile file;
    private final SocketChannel channel;
    private final String peer;
    private final SentPages sent;
    private final PolicyGuard policy;
    private final SourceFigures figures;
    private final PageScheduler scheduler;
    private final SourceView view;
    private final ServeProfile profile;
    /** Whether zero pages go only when requested, and EOF only after the device state is loaded (10.2). */
    private final boolean zeroPagesOnRequest;
    /** Whether the profile's pages go before the package. */
    private final boolean preloadProfile;
    /** Read a batch's pages from the file, on the sender's thread and its helpers; closed when the sender ends. */
    private final PageReaders readers;
    private final SendWindow window = new SendWindow();
    private final CompletableFuture<RestoreStats> completion = new CompletableFuture<>();
    /** Why it ended (the first reason wins); null while it runs. */
    private final AtomicReference<String> ended = new AtomicReference<>();
    /** Set as RAM END and EOF start to go: the destination's SHUT 0 may come before the write returns. */
    private volatile boolean eofSent;
    private final Thread sender;
    private final Thread returnPath;

    private PostcopySource(MigrationFile file, SocketChannel channel, String peer, PagePolicy policy,
            Map<String, Object> parameters, ServeProfile profile, SourceOptions options, long startNanos) {
        this.file = file;
        this.channel = channel;
        this.peer = peer;
        this.sent = new SentPages(file.pages());
        this.policy = new PolicyGuard(policy, file.pages());
        this.figures = new SourceFigures(startNanos);
        this.scheduler = new PageScheduler(file, sent, this.policy, figures, options.zeroPagesOnRequest(), options.holdBackground());
        this.profile = profile;
        this.zeroPagesOnRequest = options.zeroPagesOnRequest();
        this.preloadProfile = options.preloadProfile();
        this.readers = new PageReaders(file, options.readerThreads());
        this.view = new SourceView(file, sent, parameters, profile);
        this.sender = Thread.ofPlatform().name("thaw-postcopy-sender").unstarted(this::send);
        this.returnPath = Thread.ofPlatform().name("thaw-postcopy-return-path").unstarted(this::readReturnPath);
    }

    /**
     * Starts serving {@code file} on {@code channel}, a blocking socket connected to an incoming QEMU that has
     * {@code postcopy-ram} on ({@code peer} names it in messages), pages in {@code policy}'s order.
     */
    public static PostcopySource start(MigrationFile file, SocketChannel channel, String peer, PagePolicy policy,
            Map<String, Object> parameters) {
        return start(file, channel, peer, policy, parameters, ServeProfile.none(file), false);
    }

    /**
     * As above, with the working-set profiles {@code profile} reads for the policy and records from the requests,
     * and zero pages sent only when requested if {@code zeroPagesOnRequest} (only for a destination where that is
     * safe: {@link dev.thaw.api.migration.ServeRequest#zeroPagesOnRequest()}).
     */
    static PostcopySource start(MigrationFile file, SocketChannel channel, String peer, PagePolicy policy,
            Map<String, Object> parameters, ServeProfile profile, boolean zeroPagesOnRequest) {
        return start(file, channel, peer, policy, parameters, profile, new SourceOptions(zeroPagesOnRequest, false, false, 1));
    }

    /** As above, sending as {@code options} say (a preload, a hold of the background). */
    static PostcopySource start(MigrationFile file, SocketChannel channel, String peer, PagePolicy policy,
            Map<String, Object> parameters, ServeProfile profile, SourceOptions options) {
        PostcopySource source = new PostcopySource(file, channel, peer, policy, parameters, profile, options, System.nanoTime());
        source.returnPath.start();
        source.sender.start();
        return source;
    }

    /** Completes with the final figures on SHUT 0; exceptionally with a {@link RestoreException} on a failure or close. */
    public CompletableFuture<RestoreStats> completion() {
        return completion;
    }

    public RestoreStats stats() {
        return figures.stats(policy.name(), file.pages(), file.presentPages(), policy.errors(), policy.problem());
    }

    /** Bytes written to the destination so far. */
    public long bytesSent() {
        return figures.bytesSent();
    }

    /** Sends every page not yet sent, even under a policy without background loading; ends a hold of the background. */
    public void loadRemaining() {
        scheduler.loadRemaining();
    }

    /** Ends a hold of the background ({@link SourceOptions#holdBackground()}): the policy's background order goes. */
    public void startBackground() {
        scheduler.startBackground();
    }

    /** Ends recording and writes the profile ({@link ServeProfile#save}). */
    public Path saveProfile() {
        return profile.save();
    }

    public Optional<Path> savedProfile() {
        return profile.saved();
    }

    public List<String> warnings() {
        return profile.warnings();
    }

    /** Stops at any point (a destination not complete is left to its owner) and waits for both threads. */
    @Override
    public void close() {
        end(Phase.CLOSED, where() + ": closed before the destination completed");
        join(sender);
        join(returnPath);
    }

    private void send() {
        // Shared: the readers fill the staging buffer from their own threads.
        try (Arena arena = Arena.ofShared(); readers) {
            Batch batch = new Batch(PageScheduler.BACKGROUND_PAGES * 4);
            RamPart part = new RamPart(file.ramSectionId(), batch.capacity());
            MemorySegment staging = arena.allocate((long) batch.capacity() * Protocol.PAGE_SIZE, Protocol.PAGE_SIZE);
            write(Preamble.head(file));
            if (preloadProfile) {
                profile.read();
                preload(batch, part, staging);
            }
            write(Preamble.packaged(file));
            if (!preloadProfile) {
                profile.read(); // while the destination loads the package's devices
            }
            policy.open(view);
            while (ended.get() == null) {
                scheduler.fill(batch, window.open());
                if (batch.size() > 0) {
                    write(batch, part, staging);
                } else if (scheduler.allSent() && (!zeroPagesOnRequest || figures.devicesLoaded())) {
                    eofSent = true;
                    write(Preamble.end(file.ramSectionId()));
                    return; // the return path waits for SHUT
                } else {
                    scheduler.awaitWork();
                }
            }
        } catch (SnapshotException e) {
            fail("postcopy to " + peer + ": " + e.getMessage());
        } catch (IOException e) {
            fail(where() + ": " + hungUp(e));
        } catch (InterruptedException e) {
            fail(where() + ": interrupted");
        } catch (RuntimeException | Error e) {
            LOG.error("postcopy sender failed", e);
            fail(where() + ": the sender failed: " + e);
        } finally {
            policy.close();
        }
    }

    /**
     * The pages of the profile, in address order, as RAM parts before the package: the destination's main thread
     * loads them before it reads the device state, so its guest runs with them in. No PING goes with them (the window
     * paces pages the destination may ask past; none are asked for yet), and a run already sent is not sent again.
     */
    private void preload(Batch batch, RamPart part, MemorySegment staging) throws IOException, InterruptedException {
        Optional<WorkingSet> workingSet = profile.workingSet();
        if (workingSet.isEmpty()) {
            return;
        }
        // In address order, not the profile's: the guest waits for all of them alike, and runs read and load faster.
        BitSet wanted = new BitSet();
        for (PageRange run : workingSet.get().runs()) {
            wanted.set(Math.toIntExact(Math.min(run.first(), file.pages())), Math.toIntExact(Math.min(run.end(), file.pages())));
        }
        batch.clear();
        for (int first = wanted.nextSetBit(0); first >= 0; ) {
            int end = wanted.nextClearBit(first);
            for (long next = first; next < end; ) {
                next = scheduler.takeAhead(next, end, batch);
                if (batch.full()) {
                    writeAhead(batch, part, staging);
                }
            }
            first = wanted.nextSetBit(end);
        }
        if (batch.size() > 0) {
            writeAhead(batch, part, staging);
        }
        LOG.debug("postcopy to {}: {} pages of the profile sent before the device state", peer, figures.pagesSent());
    }

    private void writeAhead(Batch batch, RamPart part, MemorySegment staging) throws IOException, InterruptedException {
        part.begin();
        appendPages(batch, part, staging);
        write(part.finish());
        batch.clear();
    }

    /**
     * Appends {@code batch}'s pages to {@code part}: present pages read from the file (by the readers, each page into
     * its own slot of {@code staging}); the others as ZERO records.
     */
    private void appendPages(Batch batch, RamPart part, MemorySegment staging) throws InterruptedException {
        readers.read(batch, staging);
        for (int i = 0; i < batch.size(); i++) {
            long page = batch.page(i);
            SourceBlock block = file.blockOf(page);
            boolean present = file.present(page);
            if (present) {
                part.page(block, page - block.firstPage())
                        .copyFrom(staging.asSlice((long) i * Protocol.PAGE_SIZE, Protocol.PAGE_SIZE));
            } else {
                part.zero(block, page - block.firstPage());
            }
            figures.page(batch.cause(i), present);
        }
    }

    /** One RAM part of {@code batch}, paced by the send window, its requests' latencies counted once it is written. */
    private void write(Batch batch, RamPart part, MemorySegment staging) throws IOException, InterruptedException {
        part.begin();
        appendPages(batch, part, staging);
        ByteBuffer bytes = part.finish();
        window.wrote(bytes.remaining());
        write(bytes);
        ByteBuffer ping = window.pingIfDue();
        if (ping != null) {
            window.wrote(ping.remaining());
            write(ping);
        }
        long now = System.nanoTime();
        Set<Request> answered = new HashSet<>();
        for (int i = 0; i < batch.size(); i++) {
            Request r = batch.request(i);
            if (r != null && answered.add(r)) {
                figures.latency(now - r.nanos());
            }
        }
    }

    private void write(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            figures.sent(channel.write(bytes));
        }
    }

    private void readReturnPath() {
        ReturnPathReader in = new ReturnPathReader(channel);
        try {
            while (true) {
                Message m = in.next();
                if (m == null) {
                    fail(where() + ": the destination closed the connection after " + figures.pagesSent() + " of "
                            + file.pages() + " pages, without saying it completed (its own error is on its stderr)");
                    return;
                }
                switch (m) {
                    case Shut s when s.status() == 0 && eofSent -> {
                        complete();
                        return;
                    }
                    case Shut s -> {
                        fail(where() + ": the destination failed (SHUT " + s.status() + ") after " + figures.pagesSent()
                                + " of " + file.pages() + " pages (its own error is on its stderr)");
                        return;
                    }
                    case Pong p -> {
                        if (p.value() == Preamble.PING_DEVICES_LOADED) {
                            figures.resumed();
                            scheduler.wake(); // EOF may wait for this
                        } else if (window.ponged(p.value())) {
                            scheduler.wake(); // background parts may wait for this
                        }
                    }
                    case PageRequest r -> {
                        Optional<Request> request = resolve(r);
                        if (request.isEmpty()) {
                            return;
                        }
                        profile.requested(request.get().first(), request.get().count());
                        scheduler.request(request.get());
                    }
                }
            }
        } catch (ClosedChannelException e) {
            // closed by the other thread, which says why
        } catch (ProtocolException e) {
            fail(where() + ": the destination broke the protocol: " + e.getMessage());
        } catch (IOException e) {
            fail(where() + ": " + hungUp(e));
        } catch (RuntimeException | Error e) {
            LOG.error("postcopy return path failed", e);
            fail(where() + ": the return path failed: " + e);
        }
    }

    /** The pages a request names; a block or range the file does not have fails the source. */
    private Optional<Request> resolve(PageRequest r) {
        Optional<SourceBlock> block = file.block(r.block());
        if (block.isEmpty() || r.offset() + r.length() > block.get().usedLength() || r.offset() + r.length() < r.offset()) {
            fail(where() + String.format(": the destination asked for 0x%x bytes at 0x%x of RAM block %s, which the file "
                    + "does not have%s", r.length(), r.offset(), r.block(), block.map(b -> String.format(" (it has 0x%x bytes)",
                    b.usedLength())).orElse("")));
            return Optional.empty();
        }
        return Optional.of(new Request(block.get().firstPage() + r.offset() / Protocol.PAGE_SIZE,
                r.length() / Protocol.PAGE_SIZE, r.nanos()));
    }

    private void complete() {
        if (ended.compareAndSet(null, "completed")) {
            figures.completed();
            closeChannel();
            scheduler.wake();
            profile.completed(); // written before the completion is told
            completion.complete(stats());
        }
    }

    private void fail(String line) {
        if (end(Phase.FAILED, line)) {
            LOG.warn(line);
        }
    }

    /** Ends the source for {@code why} unless it ended already: the channel closed, both threads woken. */
    private boolean end(Phase phase, String why) {
        if (!ended.compareAndSet(null, why)) {
            return false;
        }
        figures.ended(phase);
        profile.abandon();
        closeChannel();
        scheduler.wake();
        completion.completeExceptionally(new RestoreException(why));
        return true;
    }

    private String where() {
        return "postcopy of " + file.file() + " to " + peer;
    }

    private String hungUp(IOException e) {
        return "the destination hung up after " + figures.pagesSent() + " of " + file.pages() + " pages (" + e.getMessage() + ")";
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing the migration socket to {}: {}", peer, e.toString());
        }
    }

    private static void join(Thread t) {
        try {
            t.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            LOG.warn("{} did not end within {} ms", t.getName(), JOIN_MILLIS);
        }
    }
}

package dev.thaw.format.thaw.impl;

import static dev.thaw.format.thaw.impl.Layout.PAGE_SHIFT;
import static dev.thaw.format.thaw.impl.Layout.PAGE_SIZE;

import dev.thaw.api.snapshot.FileIdentity;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotDevice;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotOrigin;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.thaw.impl.Layout.RegionEntry;
import dev.thaw.support.files.IoFailures;
import dev.thaw.support.files.RegularFiles;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * An open Thaw snapshot file. {@link #open} checks the header, the region table and the state (see
 * {@link ThawFileValidator}); each region's bitmap and checksum table are read and checked when its
 * pages are first asked about (see {@link RegionIndex}), so opening costs the same whatever the guest's
 * size; {@link #readPages} verifies each page it returns.
 *
 * <p>Thread-safe: pages are read with positional reads, which run concurrently. A thread interrupted
 * during a read closes a {@link FileChannel} for everyone; the reader then opens the file again (after
 * checking it is still the same file) so other threads carry on, and the interrupted read fails.
 *
 * <p>{@link #readPages} reads present pages in pieces of {@link #VERIFIED_RUN_PAGES} and checks each piece
 * as soon as it is in, so the checksums cost no second pass over memory, however many pages a call asks for.
 */
final class ThawSnapshotReader implements SnapshotReader {

    /**
     * Pages read at a time, each piece's checksums computed right after its read, while the piece is still
     * in the CPU's cache: checking 16 MiB after reading it made a second pass over memory and cost an eager
     * load of 512 MiB about a fifth more (docs/restore-figures.md, "Eager load paths").
     */
    static final long VERIFIED_RUN_PAGES = 64;
    /** Reads retried after another thread's interrupt closed the channel under them. */
    private static final int REOPEN_RETRIES = 3;

    private final Path file;
    private final Object fileKey;
    private final FileIdentity identity;
    private final MachineState state;
    private final List<SnapshotRegion> regions;
    private final RegionIndex[] layout;
    private volatile FileChannel channel;
    private volatile boolean closed;

    private ThawSnapshotReader(Path file, Object fileKey, FileIdentity identity, FileChannel channel, MachineState state,
            List<RegionEntry> entries) {
        this.file = file;
        this.fileKey = fileKey;
        this.identity = identity;
        this.channel = channel;
        this.state = state;
        this.layout = new RegionIndex[entries.size()];
        for (int i = 0; i < layout.length; i++) {
            layout[i] = new RegionIndex(i, entries.get(i), file, this::read);
        }
        this.regions = Arrays.stream(layout).map(r -> new SnapshotRegion(r.entry.name(), r.entry.guestAddress(),
                r.entry.size(), PAGE_SIZE, r.entry.presentPages())).toList();
    }

    /**
     * Opens {@code file} with a state cache of its own (tests, tools).
     *
     * @throws SnapshotException naming the file and the first problem found
     */
    static ThawSnapshotReader open(Path file) {
        return open(file, new StateCache());
    }

    /** @param states machine states parsed before, shared by the opens of one format service */
    static ThawSnapshotReader open(Path file, StateCache states) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot open: " + IoFailures.describe(e), e);
        }
        String notRegular = RegularFiles.notRegular(file, attributes);
        if (notRegular != null) {
            throw new SnapshotException(file, notRegular + ", not a snapshot file");
        }
        FileChannel channel;
        FileIdentity before;
        try {
            before = identity(file);
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot open: " + IoFailures.describe(e), e);
        }
        try {
            ThawFileValidator.Checked checked = ThawFileValidator.check(file, channel, states);
            // The same file, unchanged, before the open and after the checks: the channel reads it, and what was
            // checked is what it holds (a shared fleet compares its own fd with this identity later).
            if (!before.equals(identity(file))) {
                throw new SnapshotException(file, "changed while it was opened (replaced, truncated or written); open it again");
            }
            return new ThawSnapshotReader(file, attributes.fileKey(), before, channel, checked.state(), checked.entries());
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SnapshotException(file, "cannot read: " + IoFailures.describe(e), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(channel);
            throw e;
        }
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public Optional<FileIdentity> fileIdentity() {
        return Optional.of(identity);
    }

    /** The file at {@code path} now: stat(2)'s device, inode, links, size, mtime and ctime, as the JDK reads them. */
    private static FileIdentity identity(Path path) throws IOException {
        Map<String, Object> unix = Files.readAttributes(path, "unix:dev,ino,nlink,size,lastModifiedTime,ctime");
        return new FileIdentity((Long) unix.get("dev"), (Long) unix.get("ino"), (Integer) unix.get("nlink"),
                (Long) unix.get("size"),
                ((FileTime) unix.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                ((FileTime) unix.get("ctime")).to(TimeUnit.NANOSECONDS));
    }

    @Override
    public String format() {
        return ThawSnapshotFormat.NAME;
    }

    @Override
    public int version() {
        return Layout.VERSION;
    }

    @Override
    public Optional<MachineState> state() {
        return Optional.of(state);
    }

    /** The guest's name as the machine; devices numbered per type in the order the state lists them, with their state's version. */
    @Override
    public SnapshotOrigin origin() {
        Map<String, Long> seen = new HashMap<>();
        List<SnapshotDevice> devices = state.devices().stream()
                .map(d -> new SnapshotDevice(d.type(), seen.merge(d.type(), 1L, Long::sum) - 1, d.version())).toList();
        return new SnapshotOrigin(state.guest().name(), List.of(), devices);
    }

    @Override
    public List<SnapshotRegion> regions() {
        return regions;
    }

    @Override
    public boolean isPresent(int region, long page) {
        RegionIndex r = layout[Objects.checkIndex(region, layout.length)];
        return r.present(Objects.checkIndex(page, r.entry.pages()));
    }

    /**
     * {@inheritDoc}
     *
     * @param target native memory or a {@code byte[]}-backed segment of at least {@code count * 4096} bytes
     * @throws IndexOutOfBoundsException when the region or pages do not exist (a caller's mistake, not the file's)
     */
    @Override
    public void readPages(int region, long firstPage, long count, MemorySegment target) {
        RegionIndex r = layout[Objects.checkIndex(region, layout.length)];
        Objects.checkFromIndexSize(firstPage, count, r.entry.pages());
        if (target.byteSize() < count << PAGE_SHIFT) {
            throw new IndexOutOfBoundsException("target of " + target.byteSize() + " bytes for " + count + " pages");
        }
        if (closed) {
            throw new SnapshotException(file, "closed");
        }
        CRC32C crc = new CRC32C();
        long end = firstPage + count;
        for (long page = firstPage; page < end; ) {
            boolean present = r.present(page);
            long runEnd = page + 1;
            long limit = present ? Math.min(end, page + VERIFIED_RUN_PAGES) : end;
            while (runEnd < limit && r.present(runEnd) == present) {
                runEnd++;
            }
            MemorySegment run = target.asSlice((page - firstPage) << PAGE_SHIFT, (runEnd - page) << PAGE_SHIFT);
            if (present) {
                readRun(r, page, runEnd, run);
                verify(r, page, runEnd, run, crc);
            } else {
                run.fill((byte) 0);
            }
            page = runEnd;
        }
    }

    private void readRun(RegionIndex r, long from, long to, MemorySegment run) {
        read(run, r.entry.pagesOffset() + (from << PAGE_SHIFT), () -> r.describeRun(from, to));
    }

    /** Fills {@code target} from {@code position}, reopening a channel another thread's interrupt closed. */
    private void read(MemorySegment target, long position, Supplier<String> what) {
        for (int attempt = 0; ; attempt++) {
            FileChannel ch = channel;
            try {
                FileIo.read(ch, target, position);
                return;
            } catch (ClosedByInterruptException e) {
                reopen(ch);
                throw new SnapshotException(file, "interrupted while reading " + what.get(), e);
            } catch (ClosedChannelException e) {
                if (closed) {
                    throw new SnapshotException(file, "closed", e);
                }
                if (attempt == REOPEN_RETRIES) {
                    throw new SnapshotException(file, "cannot read " + what.get()
                            + ": the file was closed under the reader " + attempt + " times", e);
                }
                reopen(ch);
            } catch (EOFException e) {
                throw new SnapshotException(file, "cannot read " + what.get()
                        + ": the file ends before them (it was truncated after it was opened)", e);
            } catch (IOException e) {
                throw new SnapshotException(file, "cannot read " + what.get() + ": " + IoFailures.describe(e), e);
            }
        }
    }

    private void verify(RegionIndex r, long from, long to, MemorySegment run, CRC32C crc) {
        ByteBuffer buffer = run.asByteBuffer();
        for (long page = from; page < to; page++) {
            int computed = FileIo.crc32c(crc, buffer, (int) ((page - from) << PAGE_SHIFT), PAGE_SIZE);
            int expected = r.checksum(page);
            if (computed != expected) {
                checkChecksumTable(r);
                throw new SnapshotException(file, r.pageName(page) + " fails its checksum (stored "
                        + Layout.hex32(expected) + ", computed " + Layout.hex32(computed) + ")");
            }
        }
    }

    /** Tells a damaged checksum table from a damaged page: the table has its own CRC in the region table. */
    private void checkChecksumTable(RegionIndex r) {
        RegionEntry e = r.entry;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment table = arena.allocate(e.checksumsLength(), 4);
            read(table, e.checksumsOffset(), () -> "the checksum table of region " + e.name());
            ThawFileValidator.checkCrc(file, r.name() + " checksum table", e.checksumsCrc(), FileIo.crc32c(table));
        }
    }

    /** Replaces a channel an interrupt closed, if nobody did yet and the path still names the same file. */
    private synchronized void reopen(FileChannel old) {
        if (closed || channel != old) {
            return;
        }
        FileChannel fresh = null;
        try {
            // Asked before opening too: a path replaced by a FIFO would block the open, and every reader with it.
            sameFile(Files.readAttributes(file, BasicFileAttributes.class));
            fresh = FileChannel.open(file, StandardOpenOption.READ);
            sameFile(Files.readAttributes(file, BasicFileAttributes.class));
            channel = fresh;
            fresh = null;
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot reopen after an interrupt: " + IoFailures.describe(e), e);
        } finally {
            if (fresh != null) {
                closeQuietly(fresh);
            }
        }
    }

    /** Refuses to reopen a path that now names another file than the one opened. */
    private void sameFile(BasicFileAttributes now) {
        String notRegular = RegularFiles.notRegular(file, now);
        if (notRegular != null) {
            throw new SnapshotException(file, "cannot reopen after an interrupt: the path " + notRegular + " now");
        }
        if (fileKey != null && !fileKey.equals(now.fileKey())) {
            throw new SnapshotException(file, "cannot reopen after an interrupt: the path now names another file");
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only: nothing was lost.
        }
    }

    @Override
    public String toString() {
        return "ThawSnapshotReader[" + file + ", " + regions.size() + " regions]";
    }
}

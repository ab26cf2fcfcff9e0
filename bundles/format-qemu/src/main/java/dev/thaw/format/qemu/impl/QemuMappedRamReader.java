package dev.thaw.format.qemu.impl;

import dev.thaw.format.qemu.MigrationStream;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotOrigin;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotRegion;
import dev.thaw.format.qemu.QemuMigrationFile;
import dev.thaw.support.files.RegularFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A mapped-ram file opened for reading: each RAM block is a region whose pages are read in place, with
 * one positional read per run of present pages; absent pages read as zeros. Opening reads the stream's
 * headers and the page bitmaps only, never the pages. Safe for use from several threads.
 */
final class QemuMappedRamReader implements SnapshotReader, QemuMigrationFile {

    private final Path file;
    private final FileChannel channel;
    private final QemuStream stream;
    private final List<SnapshotRegion> regions;
    /** Per block, which pages are in the file. */
    private final List<PageBitmap> bitmaps;

    private QemuMappedRamReader(Path file, FileChannel channel, QemuStream stream, List<PageBitmap> bitmaps) {
        this.file = file;
        this.channel = channel;
        this.stream = stream;
        this.bitmaps = bitmaps;
        List<SnapshotRegion> list = new ArrayList<>();
        for (int i = 0; i < stream.blocks().size(); i++) {
            RamBlock b = stream.blocks().get(i);
            list.add(new SnapshotRegion(b.name(), -1, b.usedLength(), (int) b.pageSize(), bitmaps.get(i).presentPages()));
        }
        this.regions = List.copyOf(list);
    }

    /** Opens the stream that starts at byte {@code offset} of {@code file} (QEMU's {@code file:PATH,offset=N}). */
    static QemuMappedRamReader open(Path file, long offset) {
        RegularFiles.requireRegular(file, "cannot open");
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SnapshotException(file, "no such file");
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (offset < 0 || offset >= size) {
                throw new BadStream("the stream offset " + offset + " is not within the file (" + size + " bytes)");
            }
            QemuStream stream = StreamParser.parse(new Cursor(channel, size, offset));
            List<PageBitmap> bitmaps = new ArrayList<>();
            for (RamBlock b : stream.blocks()) {
                bitmaps.add(PageBitmap.read(channel, b));
            }
            return new QemuMappedRamReader(file, channel, stream, bitmaps);
        } catch (BadStream e) {
            closeQuietly(channel);
            throw new SnapshotException(file, e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            closeQuietly(channel);
            throw new SnapshotException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            closeQuietly(channel); // whatever went wrong, the file is not left open
            throw e;
        }
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long start = position - buffer.position();
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, start + buffer.position()) < 0) {
                throw new BadStream("the file ends at byte " + (start + buffer.position()) + ", within data it says it holds");
            }
        }
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public String format() {
        return QemuMappedRamFormat.NAME;
    }

    @Override
    public int version() {
        return (int) MigrationStream.VERSION;
    }

    @Override
    public Optional<MachineState> state() {
        return Optional.empty();
    }

    @Override
    public SnapshotOrigin origin() {
        return new SnapshotOrigin(stream.machine(), stream.capabilities(), stream.devices());
    }

    @Override
    public List<SnapshotRegion> regions() {
        return regions;
    }

    @Override
    public boolean isPresent(int region, long page) {
        checkPages(region, page, 1);
        return bitmaps.get(region).present(page);
    }

    @Override
    public void readPages(int region, long firstPage, long count, MemorySegment target) {
        checkPages(region, firstPage, count);
        RamBlock b = stream.blocks().get(region);
        long pageSize = b.pageSize();
        if (target.byteSize() != count * pageSize) {
            throw new IllegalArgumentException("target holds " + target.byteSize() + " bytes, not " + count + " pages");
        }
        PageBitmap bitmap = bitmaps.get(region);
        long page = firstPage;
        long end = firstPage + count;
        while (page < end) { // the range was checked once above, not per page: loaders call this for every run
            boolean present = bitmap.present(page);
            long run = page + 1;
            while (run < end && bitmap.present(run) == present) {
                run++;
            }
            MemorySegment slice = target.asSlice((page - firstPage) * pageSize, (run - page) * pageSize);
            if (present) {
                read(b, page, slice);
            } else {
                slice.fill((byte) 0);
            }
            page = run;
        }
    }

    private void read(RamBlock b, long page, MemorySegment into) {
        long at = b.pagesOffset() + page * b.pageSize();
        try {
            for (long done = 0; done < into.byteSize(); ) {
                long piece = Math.min(Integer.MAX_VALUE & ~0xfffL, into.byteSize() - done);
                readFully(channel, into.asSlice(done, piece).asByteBuffer(), at + done);
                done += piece;
            }
        } catch (BadStream e) {
            throw new SnapshotException(file, "page " + page + " of RAM block " + b.name() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot read page " + page + " of RAM block " + b.name() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public long ramSectionId() {
        return stream.layout().ramSection();
    }

    @Override
    public long ramSectionVersion() {
        return stream.layout().ramVersion();
    }

    @Override
    public Optional<UUID> uuid() {
        return stream.layout().uuid();
    }

    @Override
    public byte[] deviceSections() {
        MigrationLayout layout = stream.layout();
        if (layout.devicesEnd() < 0) {
            throw new SnapshotException(file, "its device sections cannot be delimited (no section footers to walk them "
                    + "by, or commands among them), so they cannot be copied into a migration stream");
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(layout.devicesEnd() - layout.devicesStart()));
        try {
            readFully(channel, bytes, layout.devicesStart());
        } catch (BadStream e) {
            throw new SnapshotException(file, "its device sections: " + e.getMessage());
        } catch (IOException e) {
            throw new SnapshotException(file, "cannot read its device sections: " + e.getMessage(), e);
        }
        return bytes.array();
    }

    private void checkPages(int region, long first, long count) {
        if (region < 0 || region >= regions.size()) {
            throw new IllegalArgumentException("no region " + region + " in " + file + " (it has " + regions.size() + ")");
        }
        long pages = regions.get(region).pages();
        if (first < 0 || count < 0 || first > pages - count) {
            throw new IllegalArgumentException("pages " + first + "+" + count + " are not within region " + region + " ("
                    + pages + " pages)");
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written; a close failure loses nothing
        }
    }
}

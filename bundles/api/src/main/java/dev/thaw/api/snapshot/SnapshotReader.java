package dev.thaw.api.snapshot;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An open snapshot file. Any page can be read at any time, from any thread. Every failure is a
 * {@link SnapshotException} that names the file and the problem; a page that cannot be read or fails its
 * checksum is never returned as zeros.
 */
@ConsumerType
public interface SnapshotReader extends AutoCloseable {

    Path file();

    /**
     * The file this reader reads, as it was when the reader opened it. A shared fleet holds the file open too and
     * compares (docs/shared-fleets.md): that it reads the reader's file, and that the file did not change since.
     * Empty where the format cannot tell; a shared fleet then takes the file as it finds it when it opens.
     */
    default Optional<FileIdentity> fileIdentity() {
        return Optional.empty();
    }

    /** The format's name, e.g. {@code thaw}. */
    String format();

    int version();

    /** The machine state, for formats that store it in Thaw's records. */
    Optional<MachineState> state();

    /** The machine the file was taken from: its type, capabilities and devices; a format that cannot tell says {@code unknown}. */
    default SnapshotOrigin origin() {
        return new SnapshotOrigin("unknown", List.of(), List.of());
    }

    List<SnapshotRegion> regions();

    /**
     * Whether the file holds page {@code page} of region {@code region} (else the page is zero). A format
     * may read what tells (e.g. a bitmap) at the first question, and fail then.
     */
    boolean isPresent(int region, long page);

    /**
     * Copies pages {@code [firstPage, firstPage + count)} of region {@code region} into {@code target}
     * ({@code count * pageSize} bytes), zeros for absent pages, verifying each present page's checksum
     * where the format has one. {@code target} may be confined to the calling thread: read into it on that thread.
     */
    void readPages(int region, long firstPage, long count, MemorySegment target);

    @Override
    void close();
}

package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreException;
import dev.thaw.api.snapshot.FileIdentity;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.linux.Errno;
import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.FileStatus;
import dev.thaw.linux.Libc;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot file under a shared fleet (docs/shared-fleets.md, "The snapshot file under a fleet"): an fd of
 * its own on the reader's file, compared with the file as the reader opened it.
 *
 * <ul>
 *   <li>Changed in place (same inode; size, mtime or ctime not as opened, but for a ctime changed by a name
 *       added or removed): later reads may return other bytes.
 *       {@link #afterRead} says so, and from then on every read of the cache fails with that line.</li>
 *   <li>Replaced or removed at its path: the fds keep the file that was opened, so nothing the fleet reads
 *       changes. Reported, nothing fails: the fleet has detached from the path.</li>
 * </ul>
 * fstat(2) of the held fd is the check after each read; stat(2) of the path the check for replacement.
 */
final class SnapshotFileWatch {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotFileWatch.class);

    private final Path file;
    /** Which file: the reader's (device and inode never change here). */
    private final FileIdentity opened;
    /** The file as last found unchanged: as opened, then with each name added or removed since. */
    private final AtomicReference<FileIdentity> current;
    private final SharedFd fd;
    /** The first change in place seen: sticky, every later read fails with it. */
    private final AtomicReference<String> changed = new AtomicReference<>();
    /** The path's replacement or removal, once logged. */
    private final AtomicReference<String> detached = new AtomicReference<>();

    /**
     * Opens the reader's file again and checks it is the file the reader opened, unchanged.
     *
     * @throws RestoreException in one line naming the file, if it is not (nothing is left open then)
     */
    SnapshotFileWatch(SnapshotReader reader) {
        this.file = reader.file();
        int held;
        try {
            held = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        } catch (ErrnoException e) {
            throw new RestoreException(file + ": cannot hold the snapshot open for a shared fleet: " + e.getMessage(), e);
        }
        try {
            FileStatus now = FileStatus.of(held, file.toString());
            FileIdentity asOpened = reader.fileIdentity().orElse(null);
            if (asOpened == null) {
                asOpened = identity(now); // the format cannot tell: the file as the cache finds it
            } else if (now.device() != asOpened.device() || now.inode() != asOpened.inode()) {
                throw new RestoreException(file + ": was replaced at its path after it was opened; a shared fleet "
                        + "must hold the file its reader reads (open it again)");
            } else {
                String change = change(asOpened, now);
                if (change != null) {
                    throw new RestoreException(file + ": " + change + " after it was opened; open it again");
                }
                asOpened = identity(now);
            }
            this.opened = asOpened;
            this.current = new AtomicReference<>(asOpened);
        } catch (RuntimeException e) {
            Libc.close(held);
            throw e;
        }
        this.fd = new SharedFd("snapshot file", held, () -> Libc.close(held));
    }

    private static FileIdentity identity(FileStatus s) {
        return new FileIdentity(s.device(), s.inode(), s.links(), s.size(), s.modifiedNanos(), s.changedNanos());
    }

    /**
     * How {@code now} differs in its bytes from {@code was} (the same inode), or null if it does not. A name
     * added or removed (the file renamed over, deleted, linked) changes the ctime alone and is no change; a
     * ctime changed with the names as they were (the mtime set back after a write, say) is.
     */
    private static String change(FileIdentity was, FileStatus now) {
        if (now.size() != was.size()) {
            return "was truncated from " + was.size() + " to " + now.size() + " bytes";
        }
        if (now.modifiedNanos() != was.modifiedNanos()) {
            return "was modified (its mtime changed, its size did not)";
        }
        if (now.changedNanos() != was.changedNanos() && now.links() == was.links()) {
            return "was modified (its ctime changed, its size, mtime and names did not)";
        }
        return null;
    }

    /** The change in place seen so far, or null: once there is one, reads fail at once. */
    String changed() {
        return changed.get();
    }

    /**
     * Checks the file after pages were read from it, before they are published: null if they are what the
     * reader opened, else the one line (the same for every read from the first change on).
     */
    String afterRead() {
        String seen = changed.get();
        if (seen != null) {
            return seen;
        }
        int held = fd.tryAcquire();
        if (held < 0) {
            return null; // released: no member reads any more
        }
        String change;
        boolean renamed;
        try {
            FileIdentity was = current.get();
            FileStatus now = FileStatus.of(held, file.toString());
            change = change(was, now);
            renamed = now.links() != was.links(); // a name over it, or its removal, takes one of the file's
            if (change == null && now.changedNanos() != was.changedNanos()) {
                current.compareAndSet(was, identity(now)); // a name added or removed: compare with the file since
            }
        } finally {
            fd.release();
        }
        if (renamed) {
            checkPath(); // reported now rather than at the next look at the fleet
        }
        if (change == null) {
            return null;
        }
        String line = file + " " + change + " under its shared fleet; pages not yet in the fleet's cache fail";
        if (changed.compareAndSet(null, line)) {
            LOG.error(line);
        }
        return changed.get();
    }

    /** The one line of {@link dev.thaw.api.restore.SharedPageCache#problem()}: a change in place first. */
    Optional<String> problem() {
        String seen = changed.get();
        return seen != null ? Optional.of(seen) : Optional.ofNullable(checkPath());
    }

    /** The path's replacement or removal, if it is replaced or removed now (logged the first time). */
    private String checkPath() {
        String line;
        try {
            FileStatus atPath = FileStatus.of(file.toString());
            line = atPath.device() == opened.device() && atPath.inode() == opened.inode() ? null
                    : file + " was replaced at its path; the fleet reads the snapshot it opened";
        } catch (ErrnoException e) {
            line = e.errno() == Errno.ENOENT ? file + " was removed from its path; the fleet reads the snapshot it opened"
                    : file + ": cannot look at its path (" + e.getMessage() + "); the fleet reads the snapshot it opened";
        }
        if (line != null && !line.equals(detached.getAndSet(line))) {
            LOG.warn(line);
        }
        return line;
    }

    /** Lets go of the file (once its cache is released). */
    void close() {
        fd.close();
    }
}

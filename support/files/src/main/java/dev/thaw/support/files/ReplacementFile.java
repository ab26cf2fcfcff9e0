package dev.thaw.support.files;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * A file that replaces {@code target} only once it is complete, and is never readable by others before
 * it is in place. Snapshots hold guest memory and profiles show what the guest touched, so both are
 * secret:
 * <ul>
 * <li>the temporary file {@code .NAME.tmp-XXXXXXXX} (8 random hex digits) is created beside the target
 *     with {@code O_CREAT|O_EXCL} and mode 0600 in the same call (the umask can only remove bits), so it
 *     is never world-readable, and a file or symbolic link already at that name is never opened or
 *     followed: another name is tried;
 * <li>it is written through the handle that created it ({@link #channel()}), never opened again by path;
 * <li>{@link #replaceTarget()} gives it the permission bits of the regular file it replaces (0600 when
 *     there is none, or the target is a symbolic link or anything else), forces it to disk and renames
 *     it onto the target: {@code rename(2)} replaces a symbolic link there rather than writing through it,
 *     and two writers replacing the same target each rename a complete file of their own (the last wins);
 * <li>{@link #close()} before that deletes the temporary file, whatever failed.
 * </ul>
 * Not thread-safe: one writer uses one instance.
 */
public final class ReplacementFile implements Closeable {

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** Names tried before giving up when each is taken (by a leftover of a killed writer, or a planted link). */
    private static final int NAME_ATTEMPTS = 8;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private boolean replaced;

    private ReplacementFile(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /**
     * Creates the private temporary file beside {@code target} (which need not exist; its folder must).
     *
     * @throws IOException as the JDK reports it, naming the temporary file
     */
    public static ReplacementFile create(Path target) throws IOException {
        Path name = target.getFileName();
        if (name == null) {
            throw new NoSuchFileException(target.toString(), null, "not a file's path");
        }
        for (int attempt = 1; ; attempt++) {
            Path temp = target.resolveSibling("." + name + ".tmp-" + HexFormat.of().toHexDigits(RANDOM.nextInt()));
            try {
                FileChannel channel = FileChannel.open(temp,
                        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                        PosixFilePermissions.asFileAttribute(OWNER_ONLY));
                return new ReplacementFile(target, temp, channel);
            } catch (FileAlreadyExistsException e) {
                if (attempt == NAME_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * Writes {@code content} as the whole of a new file that replaces {@code target}, and makes the
     * replacement durable (the file and its folder forced to disk). On failure the target is as it was.
     */
    public static void replace(Path target, byte[] content) throws IOException {
        try (ReplacementFile file = create(target)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                file.channel().write(buffer, buffer.position());
            }
            file.replaceTarget();
            file.syncFolder();
        }
    }

    /** The temporary file's path, for messages: it is written through {@link #channel()}, never reopened. */
    public Path temp() {
        return temp;
    }

    /** The handle that created the temporary file, open for writing. */
    public FileChannel channel() {
        return channel;
    }

    /**
     * Gives the file the replaced file's permission bits, forces it to disk, closes it and renames it onto
     * the target. After this {@link #close()} leaves it in place.
     */
    public void replaceTarget() throws IOException {
        Set<PosixFilePermission> mode = replacedMode();
        if (!mode.equals(OWNER_ONLY)) {
            // NOFOLLOW_LINKS: the JDK opens the path with O_NOFOLLOW and uses fchmod, so a link put at the
            // temporary name since it was created does not pass the mode on to the file it points to.
            Files.getFileAttributeView(temp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setPermissions(mode);
        }
        channel.force(true);
        channel.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        replaced = true;
    }

    /** {@code fsync} of the target's folder, so that the rename survives a crash. */
    public void syncFolder() throws IOException {
        Path folder = target.toAbsolutePath().getParent();
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** The permission bits of the regular file at the target, not following a link; owner-only when there is none. */
    private Set<PosixFilePermission> replacedMode() throws IOException {
        PosixFileAttributes old;
        try {
            old = Files.readAttributes(target, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return OWNER_ONLY;
        }
        return old.isRegularFile() ? old.permissions() : OWNER_ONLY;
    }

    /** Closes the handle and, unless it replaced the target, deletes the temporary file. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing written through it counts any more.
        }
        if (!replaced) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // Its name marks it as a temporary file no reader takes for the target; the failure that
                // brought us here is the one to report.
            }
        }
    }
}

package dev.thaw.bench.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The peer row of the restore benchmark: QEMU's own eager load of a mapped-ram snapshot file.
 *
 * <p>A mapped-ram file holds every RAM block at a fixed offset, zero pages as holes; QEMU loads it with
 * preads straight into guest memory and could resume the guest only when all of it is in. QEMU is driven
 * over QMP on a UNIX socket. No guest code ever runs (the machine stays stopped with {@code -S}), so TCG
 * serves both sides; both must use the same accelerator anyway, since KVM brings other devices along.
 */
final class QemuPeer {

    static final String QEMU = "qemu-system-x86_64";
    /** mapped-ram arrived in QEMU 9.0; older versions reject the capability. */
    private static final int MIN_MAJOR = 9;
    private static final Pattern VERSION = Pattern.compile("version (\\d+\\.\\d+(?:\\.\\d+)?)");
    /** Guest address of the data: above what the microvm firmware uses at the bottom of memory. */
    static final long DATA_ADDRESS = 0x200000;
    /** microvm maps at most the first 3 GiB of RAM below 4 GiB (the rest above), and the data is one piece. */
    private static final long LOW_RAM_END = 0xC000_0000L;
    /** Bound on every wait for QEMU; running out throws with the tail of QEMU's stderr. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private QemuPeer() {}

    /** Empty when a QEMU that reads mapped-ram files is on PATH, else a one-line reason it cannot run. */
    static Optional<String> unavailable() {
        try {
            String version = version();
            return Integer.parseInt(version.substring(0, version.indexOf('.'))) >= MIN_MAJOR ? Optional.empty()
                    : Optional.of(QEMU + " " + version + " is older than " + MIN_MAJOR + ": it cannot read mapped-ram files");
        } catch (QemuException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The version {@code qemu-system-x86_64 --version} reports, such as "10.0.2". */
    static String version() {
        Process process;
        try {
            process = new ProcessBuilder(QEMU, "--version").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new QemuException(QEMU + " is not on PATH");
        }
        try {
            // --version prints far less than a pipe holds, so waiting before reading cannot deadlock.
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new QemuException(QEMU + " --version did not finish within " + TIMEOUT.toSeconds() + " s");
            }
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            Matcher m = VERSION.matcher(out);
            if (!m.find()) {
                throw new QemuException(QEMU + " --version printed no version: " + out.lines().findFirst().orElse(""));
            }
            return m.group(1);
        } catch (IOException e) {
            throw new QemuException(QEMU + " --version could not be read: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while asking " + QEMU + " for its version");
        } finally {
            process.destroyForcibly();
        }
    }

    /**
     * Writes, in {@code dir}, a mapped-ram file of a stopped guest of {@code memoryBytes} RAM (whole MiB)
     * whose only non-zero content is the raw file {@code data}, placed at {@link #DATA_ADDRESS}.
     *
     * @throws IOException when {@code data} cannot be read or {@code dir} written
     * @throws QemuException when QEMU fails, says no or does not answer in time
     */
    static Path makeFile(Path dir, long memoryBytes, Path data) throws IOException {
        if (DATA_ADDRESS + Files.size(data) > Math.min(memoryBytes, LOW_RAM_END)) {
            throw new IllegalArgumentException(data + " at 0x200000 does not fit the low RAM of a " + memoryBytes + " byte guest");
        }
        Path file = dir.toAbsolutePath().normalize().resolve(data.getFileName() + "." + (memoryBytes >> 20) + "M.mapped-ram");
        // QEMU pwrites pages at fixed offsets and skips zero pages: an old file's pages would survive.
        Files.deleteIfExists(file);
        try (QemuProcess qemu = new QemuProcess(microvm(memoryBytes), "-device", "loader,file=" + option(data.toAbsolutePath())
                + ",addr=" + DATA_ADDRESS + ",force-raw=on")) {
            qemu.enableMappedRam();
            qemu.execute("migrate", Map.of("uri", uri(file)));
            qemu.awaitMigrationCompleted();
            qemu.execute("quit", Map.of());
            if (!qemu.awaitExit(TIMEOUT.toSeconds())) {
                throw qemu.failure("QEMU did not exit within " + TIMEOUT.toSeconds() + " s of quit");
            }
            return file;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while QEMU wrote " + file);
        }
    }

    /**
     * Loads {@code file} into a fresh stopped QEMU and returns the time from sending
     * {@code migrate-incoming} to the MIGRATION event "completed"; QEMU's start-up is not in it.
     * {@code memoryBytes} must be what the file was made with: QEMU 10.0 does not check it for mapped-ram.
     *
     * @throws QemuException when QEMU fails, says no or does not answer in time
     */
    static Duration timeLoad(Path file, long memoryBytes) throws IOException {
        return timeLoad(file, 0, microvm(memoryBytes));
    }

    /**
     * Loads the stream at byte {@code offset} of {@code file} into a fresh stopped QEMU started with
     * {@code machine} (-M, -m and the devices the file's RAM blocks need), timed as {@link #timeLoad(Path, long)}.
     */
    static Duration timeLoad(Path file, long offset, List<String> machine) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
        List<String> args = new ArrayList<>(machine);
        args.addAll(List.of("-incoming", "defer"));
        try (QemuProcess qemu = new QemuProcess(args)) {
            qemu.enableMappedRam();
            String uri = uri(file.toAbsolutePath()) + (offset == 0 ? "" : ",offset=" + offset);
            long start = System.nanoTime();
            qemu.execute("migrate-incoming", Map.of("uri", uri));
            qemu.awaitMigrationCompleted();
            return Duration.ofNanos(System.nanoTime() - start);
        }
    }

    /** A microvm of {@code memoryBytes} RAM: the bench's own files. */
    static List<String> microvm(long memoryBytes) {
        if (memoryBytes <= 0 || memoryBytes % (1 << 20) != 0) {
            throw new IllegalArgumentException("QEMU takes whole MiB of RAM, not " + memoryBytes + " bytes");
        }
        return List.of("-M", "microvm", "-m", (memoryBytes >> 20) + "M");
    }

    /** A path inside a QEMU option value, where a comma is written twice. */
    static String option(Path path) {
        return path.toString().replace(",", ",,");
    }

    /** A {@code file:} migration URI; QEMU would read a comma there as the start of {@code ,offset=}. */
    private static String uri(Path file) {
        if (file.toString().contains(",")) {
            throw new IllegalArgumentException("QEMU cannot migrate to a path with a comma: " + file);
        }
        return "file:" + file;
    }

    /**
     * QEMU failed, timed out or answered a QMP error; the message carries QEMU's own words. Unchecked: a
     * benchmark can only report it and go on, unlike a host I/O error, which stays an IOException.
     */
    static final class QemuException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        QemuException(String message) {
            super(message);
        }
    }
}

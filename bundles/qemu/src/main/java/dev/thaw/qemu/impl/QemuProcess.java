package dev.thaw.qemu.impl;

import dev.thaw.api.device.ConsoleOutput;
import dev.thaw.api.vm.VmException;
import dev.thaw.support.qemu.QemuEnd;
import dev.thaw.support.qemu.QmpClient;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QEMU child process with its own folder: its monitor (QMP) on a unix socket there, COM1 on two named pipes
 * there ({@link SerialPort}), its standard error in a file there. {@link #close()} ends it in every case (SIGTERM, then
 * SIGKILL), waits for it and removes the folder.
 */
final class QemuProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QemuProcess.class);
    /** How long QEMU may take to start: open its serial port, create its monitor. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    /** The VM's id, in every message; a spare's changes when a VM takes it. */
    private volatile String name;
    private final Path dir;
    private final Path stderr;
    private final SerialPort serial;
    private Process process;
    private QmpClient qmp;
    /** The program's file name, which QEMU puts before each error it reports. */
    private String program;

    private QemuProcess(String name, Path dir, SerialPort serial) {
        this.name = name;
        this.dir = dir;
        this.stderr = dir.resolve("stderr");
        this.serial = serial;
    }

    /** QEMU's options, made once its folder exists: they may name files written there first. */
    @FunctionalInterface
    interface Options {
        List<String> in(Path dir) throws IOException;
    }

    /**
     * Starts {@code qemu} with {@code options} for the VM {@code name}, its serial output going to
     * {@code console}; returns once its monitor answers.
     *
     * @throws VmException naming the VM and what QEMU said
     */
    static QemuProcess start(QemuInstallation qemu, String name, Options options, ConsoleOutput console) {
        QemuProcess p = null;
        try {
            Path dir = Files.createTempDirectory("thaw-qemu-" + name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-");
            p = new QemuProcess(name, dir, SerialPort.create(dir.resolve("com1")));
            p.launch(qemu, options.in(dir), console);
            return p;
        } catch (IOException | RuntimeException e) {
            VmException failure = p == null ? new VmException(name + ": cannot start QEMU: " + e.getMessage(), e)
                    : p.failure("cannot start QEMU: " + e.getMessage());
            if (p != null) {
                p.close();
            }
            throw failure;
        }
    }

    private void launch(QemuInstallation qemu, List<String> options, ConsoleOutput console) throws IOException {
        Path monitor = dir.resolve("qmp");
        List<String> command = new ArrayList<>();
        command.add(qemu.binary().toString());
        program = qemu.binary().getFileName().toString();
        command.addAll(options);
        command.addAll(List.of(
                "-chardev", "pipe,id=com1,path=" + option(serial.path()), "-serial", "chardev:com1",
                "-qmp", "unix:" + option(monitor) + ",server=on,wait=off",
                // QEMU's threads by name in top and /proc (CPU 0/TCG, postcopy/listen, ...): where a restore's time goes
                "-name", "thaw,debug-threads=on"));
        LOG.debug("{}: starting {}", name, command);
        serial.start(console, "qemu-com1-" + name);
        process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile()).start();
        qmp = QmpClient.connect(monitor, START_TIMEOUT, process::isAlive);
    }

    /** A path as one QEMU option value: commas are doubled, as QEMU's option parser wants. */
    static String option(Path path) {
        return path.toString().replace(",", ",,");
    }

    /** A spare taken by the VM {@code vm}: its messages name that VM from now on. */
    void adoptedBy(String vm) {
        name = vm;
    }

    Path dir() {
        return dir;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Completes with QEMU's exit status when it ends. */
    CompletableFuture<Integer> exit() {
        return process.onExit().thenApply(Process::exitValue);
    }

    /** The monitor; one caller at a time. */
    QmpClient qmp() {
        return qmp;
    }

    SerialPort serial() {
        return serial;
    }

    /** A one-line failure of this VM's QEMU: {@code what}, its exit status if it ended, and the last line of its stderr. */
    VmException failure(String what) {
        String exit = process != null && !process.isAlive() ? " (QEMU exited with " + process.exitValue() + ")" : "";
        String said = lastStderrLine();
        return new VmException(name + ": " + what + exit + (said.isEmpty() ? "" : "; QEMU said: " + said));
    }

    /**
     * Why QEMU says it failed: the last line of its standard error that QEMU prefixed with its program name, as it
     * does its errors (a hint may follow them, e.g. "Use -machine help to list supported machines"); else the last
     * non-empty line; else empty.
     */
    String lastStderrLine() {
        try {
            List<String> lines = Files.readAllLines(stderr).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
            return lines.reversed().stream().filter(l -> program != null && l.startsWith(program + ": ")).findFirst()
                    .orElse(lines.isEmpty() ? "" : lines.getLast());
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits up to {@code timeout} for QEMU to end by itself; true when it has. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (qmp != null) {
            qmp.close();
        }
        if (process != null) {
            QemuEnd.end(process);
        }
        serial.close();
        try {
            QemuEnd.removeFolder(dir);
        } catch (IOException e) {
            LOG.debug("{}: removing {}: {}", name, dir, e.toString());
        }
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The test guest in a QEMU child process, booted the multiboot way (guest/README.md, "Booting in QEMU"): QEMU
 * loads the image with {@code -kernel} and the boot parameters page, exactly as {@link BootPlan} encodes it for
 * every runtime, as the first module ({@code -initrd}); COM1 is the process's standard input and output, and
 * the guest's exit code comes back through {@code isa-debug-exit} as QEMU's exit status. For the tests, and by
 * hand through {@link #main} (scripts/qemu-guest.sh).
 */
final class QemuGuest implements AutoCloseable {

    static final String IMAGE_FILE = "thaw-guest.bin";
    static final String BOOT_PARAMETERS_FILE = "boot-parameters.bin";
    static final String STDERR_FILE = "qemu.stderr";
    /** isa-debug-exit makes QEMU exit with {@code (code << 1) | 1} for a guest's {@code out} of {@code code}. */
    static final String DEBUG_EXIT = "isa-debug-exit,iobase=0x501,iosize=4";

    private final Process process;
    private final Path stderr;
    private final OutputStream serialIn;
    private final Thread reader;
    private final List<String> lines = new ArrayList<>();
    private int next;

    private QemuGuest(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
        this.serialIn = process.getOutputStream();
        this.reader = Thread.ofPlatform().name("qemu-serial-" + process.pid()).daemon().start(this::readSerial);
    }

    /**
     * The QEMU command line that boots the guest as {@code plan} says: a PC whose RAM lies where
     * {@link MemoryLayout} puts it (below 3 GiB, the rest from 4 GiB: {@code max-ram-below-4g}), TCG, none of
     * QEMU's default devices (network card, VGA, ...) but COM1 on standard input and output, and the debug exit port.
     */
    static List<String> commandLine(String qemu, BootPlan plan, Path image, Path bootParameters) {
        return List.of(qemu,
                "-machine", "pc,max-ram-below-4g=" + MemoryLayout.LOW_RAM_LIMIT,
                "-accel", "tcg",
                "-m", (plan.request().memoryBytes() >> 20) + "M",
                "-smp", String.valueOf(plan.request().vcpus()),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "stdio",
                "-device", DEBUG_EXIT,
                "-kernel", image.toString(),
                "-initrd", bootParameters.toString());
    }

    /** Writes the bundled image and {@code request}'s boot parameters page into {@code dir}; returns the command line. */
    static List<String> prepare(String qemu, Path dir, BootRequest request) throws IOException {
        GuestImage image = GuestImage.bundled();
        BootPlan plan = BootPlan.of(request.name(), request, image);
        Path imageFile = Files.write(dir.resolve(IMAGE_FILE), image.bytes());
        Path parameters = Files.write(dir.resolve(BOOT_PARAMETERS_FILE), plan.bootParameters());
        return commandLine(qemu, plan, imageFile, parameters);
    }

    /** Starts QEMU for {@code request}, its files in {@code dir}. */
    static QemuGuest start(Path qemu, Path dir, BootRequest request) throws IOException {
        Path stderr = dir.resolve(STDERR_FILE);
        Process process = new ProcessBuilder(prepare(qemu.toString(), dir, request))
                .redirectError(stderr.toFile())
                .start();
        return new QemuGuest(process, stderr);
    }

    private void readSerial() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // QEMU went away: what it printed is in lines, why it went is in its exit status and stderr
        }
    }

    long pid() {
        return process.pid();
    }

    /** Every line the guest printed so far. */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** The next line not yet taken that starts with {@code prefix}, waiting up to {@code timeout} for it. */
    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (true) {
                while (next < lines.size()) {
                    String line = lines.get(next++);
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (!process.isAlive() && !reader.isAlive()) {
                    throw new AssertionError("QEMU exited with " + process.exitValue() + " before a line starting with '"
                            + prefix + "'; serial output " + lines + "; " + stderr());
                }
                if (left <= 0) {
                    throw new AssertionError("no line starting with '" + prefix + "' within " + timeout
                            + "; serial output " + lines + "; " + stderr());
                }
                TimeUnit.NANOSECONDS.timedWait(lines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        }
    }

    /** Sends {@code line} and a newline to COM1. */
    void send(String line) throws IOException {
        serialIn.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        serialIn.flush();
    }

    /** The code the guest wrote to the debug exit port, once QEMU has ended. */
    int awaitGuestExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("QEMU still running after " + timeout + "; serial output " + lines() + "; " + stderr());
        }
        int status = process.exitValue();
        if ((status & 1) == 0) {
            throw new AssertionError("QEMU exited with " + status + ", not through the debug exit port; serial output "
                    + lines() + "; " + stderr());
        }
        return status >> 1;
    }

    private String stderr() {
        try {
            return "QEMU's stderr: " + Files.readString(stderr).strip();
        } catch (IOException e) {
            return "QEMU's stderr unreadable: " + e.getMessage();
        }
    }

    /** Kills QEMU if it still runs and waits until it and the serial reader are gone. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("QEMU (pid " + process.pid() + ") survived SIGKILL for 10 s");
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for QEMU (pid " + process.pid() + ") to end", e);
        }
    }

    /**
     * By hand: {@code QemuGuest DIR WORKLOAD [memory=MiB] [vcpus=N] [seed=N] [working-set=MiB]
     * [order=sequential|random|strided] [stride-pages=N]} writes the image and the boot parameters page into DIR
     * and prints the QEMU command line, one argument a line. Unnamed settings are {@code thaw:boot}'s defaults.
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: QemuGuest DIR fill|touch|function [memory=MiB] [vcpus=N] [seed=N] "
                    + "[working-set=MiB] [order=sequential|random|strided] [stride-pages=N]");
            System.exit(2);
        }
        List<String> command;
        try {
            command = prepare("qemu-system-x86_64", Files.createDirectories(Path.of(args[0])), request(args));
        } catch (IllegalArgumentException e) {
            System.err.println("QemuGuest: " + e.getMessage());
            System.exit(2);
            return;
        }
        for (String arg : command) {
            System.out.println(arg);
        }
    }

    private static BootRequest request(String[] args) {
        Workload workload = Workload.parse(args[1]);
        BootRequest d = BootRequest.defaults(workload);
        long memory = d.memoryBytes();
        int vcpus = d.vcpus();
        long seed = d.seed();
        long workingSet = d.workingSetBytes();
        TouchOrder order = d.touchOrder();
        long stride = d.strideBytes();
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("'" + args[i] + "' is not key=value");
            }
            switch (kv[0]) {
                case "memory" -> memory = Long.parseLong(kv[1]) << 20;
                case "vcpus" -> vcpus = Integer.parseInt(kv[1]);
                case "seed" -> seed = Long.parseLong(kv[1]);
                case "working-set" -> workingSet = Long.parseLong(kv[1]) << 20;
                case "order" -> order = TouchOrder.parse(kv[1]);
                case "stride-pages" -> stride = Long.parseLong(kv[1]) * 4096;
                default -> throw new IllegalArgumentException("unknown setting '" + kv[0] + "'");
            }
        }
        return new BootRequest("qemu", memory, vcpus, workload, seed, workingSet, order, stride);
    }
}

package dev.thaw.shell.impl;

import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Streams a VM's console to the shell and sends each typed line to the guest, until the VM stops or
 * the user types {@value #DETACH} on a line of its own. Input is read only when it is available, so no
 * reader is left blocked on the shell's input after following ends.
 */
final class ConsoleFollower {

    static final long POLL_MS = 20;
    static final String DETACH = "~.";

    private final Vm vm;
    private final InputStream keyboard;
    private final PrintStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    ConsoleFollower(Vm vm, InputStream keyboard, PrintStream out) {
        this.vm = vm;
        this.keyboard = keyboard;
        this.out = out;
    }

    void run() throws InterruptedException {
        out.println("[following " + vm.id() + "; type " + DETACH + " on a line of its own to stop]");
        long shown = 0;
        while (true) {
            shown = showNew(shown);
            if (vm.info().status() != VmStatus.RUNNING || !forwardTypedLines()) {
                showNew(shown);
                return;
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** Prints what the guest wrote since byte {@code shown}; returns the new mark. */
    private long showNew(long shown) {
        String text = vm.consoleText();
        long written = vm.consoleBytesWritten();
        long fresh = written - shown;
        if (fresh > 0) {
            // The console keeps only its newest bytes; what scrolled out before we looked is gone.
            int from = (int) Math.max(0, text.length() - fresh);
            out.print(text.substring(from));
            out.flush();
        }
        return written;
    }

    /** Sends complete typed lines to the guest; false when the user asked to detach or input ended. */
    private boolean forwardTypedLines() {
        try {
            while (keyboard.available() > 0) {
                int b = keyboard.read();
                if (b < 0) {
                    return false;
                }
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                String typed = line.toString(StandardCharsets.UTF_8).replace("\r", "");
                line.reset();
                if (typed.equals(DETACH)) {
                    return false;
                }
                vm.sendInput(typed + "\n");
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

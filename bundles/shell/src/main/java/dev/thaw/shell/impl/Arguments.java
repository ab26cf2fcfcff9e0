package dev.thaw.shell.impl;

import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.nio.file.Path;
import org.apache.felix.service.command.CommandSession;

/**
 * What command arguments name: a VM by id, a file relative to the session's directory, a snapshot as a file
 * or as QEMU's {@code file:PATH[,offset=N]} URI.
 */
final class Arguments {

    private Arguments() {}

    static Vm vm(VmManager vms, String id) {
        return vms.find(id).orElseThrow(() -> new IllegalArgumentException("no VM named '" + id + "' (thaw:vms lists them)"));
    }

    static Path file(CommandSession session, String file) {
        return session.currentDir() == null ? Path.of(file) : session.currentDir().resolve(file);
    }

    /** A snapshot in a file, starting at byte {@code offset}. */
    record SnapshotLocation(Path file, long offset) {}

    /** {@code PATH}, or QEMU's migration URI {@code file:PATH[,offset=N]} (N decimal or 0x hex). */
    static SnapshotLocation snapshot(CommandSession session, String text) {
        if (!text.startsWith("file:")) {
            return new SnapshotLocation(file(session, text), 0);
        }
        String rest = text.substring("file:".length());
        int comma = rest.lastIndexOf(",offset=");
        if (comma < 0) {
            return new SnapshotLocation(file(session, rest), 0);
        }
        String number = rest.substring(comma + ",offset=".length());
        long offset;
        try {
            offset = Long.decode(number);
        } catch (NumberFormatException e) {
            offset = -1;
        }
        if (offset < 0) {
            throw new IllegalArgumentException(text + ": offset=" + number + " is not a byte offset (a whole number, or 0x hex)");
        }
        return new SnapshotLocation(file(session, rest.substring(0, comma)), offset);
    }
}

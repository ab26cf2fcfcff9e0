package dev.thaw.shell.impl;

import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.nio.file.Path;
import org.apache.felix.service.command.CommandSession;

/** What command arguments name: a VM by id, a file relative to the session's directory. */
final class Arguments {

    private Arguments() {}

    static Vm vm(VmManager vms, String id) {
        return vms.find(id).orElseThrow(() -> new IllegalArgumentException("no VM named '" + id + "' (thaw:vms lists them)"));
    }

    static Path file(CommandSession session, String file) {
        return session.currentDir() == null ? Path.of(file) : session.currentDir().resolve(file);
    }
}

package dev.thaw.support.guest;

import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmStatus;
import java.util.Locale;

/** The one-line refusals of a VM that is asked to do what only a running VM can, the same on every runtime. */
public final class VmRefusals {

    private VmRefusals() {}

    /**
     * Refuses {@code what} (e.g. {@code invoke}) on VM {@code id} unless it is {@link VmStatus#RUNNING}, saying why.
     *
     * @param exitCode the guest's exit code, for an exited VM
     * @param reason why it failed, for a failed VM
     * @throws VmException naming the VM, what was asked and its state
     */
    public static void requireRunning(String what, String id, VmStatus status, int exitCode, String reason) {
        if (status != VmStatus.RUNNING) {
            String why = switch (status) {
                case EXITED -> "the guest exited with code " + exitCode;
                case FAILED -> "it failed: " + reason;
                default -> "it is " + status.name().toLowerCase(Locale.ROOT);
            };
            throw new VmException("cannot " + what + " " + id + ": " + why);
        }
    }
}

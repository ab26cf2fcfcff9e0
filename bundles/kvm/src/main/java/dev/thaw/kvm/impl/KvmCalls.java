package dev.thaw.kvm.impl;

import dev.thaw.kvm.KvmException;
import dev.thaw.linux.ErrnoException;
import java.util.function.Supplier;

/**
 * Runs a call of the thin ioctl layer and turns its {@link ErrnoException} into a {@link KvmException}
 * that says which VM (or vCPU) and what it was doing: {@code "<context>: <what>: <ioctl> failed: <errno>"}.
 * The message is built only on failure; these calls sit on the create and restore paths.
 */
final class KvmCalls {

    private KvmCalls() {}

    /** @param context e.g. {@code "VM vm1"}; @param what e.g. {@code "register memory slot"}, or null */
    static <T> T call(String context, String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (ErrnoException e) {
            throw new KvmException(context + ": " + (what == null ? "" : what + ": ") + e.getMessage(), e);
        }
    }

    static void run(String context, String what, Runnable call) {
        call(context, what, () -> {
            call.run();
            return null;
        });
    }
}

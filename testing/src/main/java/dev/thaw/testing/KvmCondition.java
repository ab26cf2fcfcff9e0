package dev.thaw.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Decides whether a {@link RequiresKvm} test runs, skips, or fails for want of KVM. */
public final class KvmCondition implements ExecutionCondition {

    static final Path KVM = Path.of("/dev/kvm");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (isCharacterDevice(KVM) && Files.isReadable(KVM) && Files.isWritable(KVM)) {
            return ConditionEvaluationResult.enabled("/dev/kvm is usable");
        }
        String why = !Files.exists(KVM) ? "/dev/kvm is absent"
                : !isCharacterDevice(KVM) ? "/dev/kvm is not a character device"
                : "/dev/kvm is not readable and writable by this user";
        if ("1".equals(System.getenv("THAW_REQUIRE_KVM"))) {
            throw new IllegalStateException(why + ", and THAW_REQUIRE_KVM=1 says KVM tests must run");
        }
        return ConditionEvaluationResult.disabled(why + ": KVM test skipped (set THAW_REQUIRE_KVM=1 to fail instead)");
    }

    /** A plain file named /dev/kvm (left by a redirection, say) is not KVM. */
    static boolean isCharacterDevice(Path path) {
        try {
            return ((Integer) Files.getAttribute(path, "unix:mode") & 0170000) == 0020000;
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}

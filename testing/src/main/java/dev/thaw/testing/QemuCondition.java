package dev.thaw.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Decides whether a {@link RequiresQemu} test runs, skips, or fails for want of QEMU. */
public final class QemuCondition implements ExecutionCondition {

    public static final String QEMU = "qemu-system-x86_64";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<Path> qemu = qemu();
        if (qemu.isPresent()) {
            return ConditionEvaluationResult.enabled(qemu.get() + " is there");
        }
        String why = QEMU + " is not on the PATH";
        if ("1".equals(System.getenv("THAW_REQUIRE_QEMU"))) {
            throw new IllegalStateException(why + ", and THAW_REQUIRE_QEMU=1 says QEMU tests must run");
        }
        return ConditionEvaluationResult.disabled(why + ": QEMU test skipped (set THAW_REQUIRE_QEMU=1 to fail instead)");
    }

    /** The QEMU binary the PATH names, if any. */
    public static Optional<Path> qemu() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, QEMU);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }
}

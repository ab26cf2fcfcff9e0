package dev.thaw.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Decides whether a {@link RequiresUserfaultfd} test runs: root, or unprivileged userfaultfd allowed. */
public final class UserfaultfdCondition implements ExecutionCondition {

    static final Path UNPRIVILEGED = Path.of("/proc/sys/vm/unprivileged_userfaultfd");

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (isRoot()) {
            return ConditionEvaluationResult.enabled("root may create a userfaultfd");
        }
        if (read(UNPRIVILEGED).equals("1")) {
            return ConditionEvaluationResult.enabled("vm.unprivileged_userfaultfd = 1");
        }
        return ConditionEvaluationResult.disabled("userfaultfd needs root or vm.unprivileged_userfaultfd = 1 here: test skipped");
    }

    /** Effective uid 0, from /proc/self/status ("Uid: real effective saved fs"). */
    static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> l.split("\\s+")[2]).findFirst().orElse("").equals("0");
        } catch (IOException e) {
            return false;
        }
    }

    private static String read(Path path) {
        try {
            return Files.readString(path).strip();
        } catch (IOException e) {
            return "";
        }
    }
}

package dev.thaw.testing;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The vCPU runtimes a test that runs VMs runs on: the emulated runtime everywhere, and KVM as well. A KVM
 * case is skipped, with the reason shown, where {@code /dev/kvm} does not open, and fails instead under
 * {@code THAW_REQUIRE_KVM=1} (CI sets it where {@code /dev/kvm} opens). Tests take the runtime as a
 * parameter ({@code @MethodSource("dev.thaw.testing.Runtimes#names")}) rather than being copied per runtime.
 */
public final class Runtimes {

    public static final String EMULATED = "emulated";
    public static final String KVM = "kvm";

    private Runtimes() {}

    /** Every runtime, emulated first. */
    public static List<String> names() {
        return List.of(EMULATED, KVM);
    }

    /** Each of {@code cases} once per runtime, the runtime as the first argument. */
    public static Stream<Arguments> times(Stream<Arguments> cases) {
        List<Arguments> all = cases.toList();
        return names().stream().flatMap(runtime -> all.stream().map(a -> {
            Object[] given = a.get();
            Object[] with = new Object[given.length + 1];
            with[0] = runtime;
            System.arraycopy(given, 0, with, 1, given.length);
            return Arguments.of(with);
        }));
    }

    /** Skips (or, under THAW_REQUIRE_KVM=1, fails) the calling test where {@code runtime} cannot run here. */
    public static void assumeUsable(String runtime) {
        if (!runtime.equals(KVM)) {
            return;
        }
        ConditionEvaluationResult kvm = new KvmCondition().evaluateExecutionCondition(null);
        Assumptions.assumeFalse(kvm.isDisabled(), () -> kvm.getReason().orElse("KVM is not usable"));
    }
}

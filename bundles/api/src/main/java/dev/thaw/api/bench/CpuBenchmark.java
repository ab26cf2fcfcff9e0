package dev.thaw.api.bench;

import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Guest instructions per second of the emulated vCPU on the test guest's {@code fill} workload and on a
 * {@code function} invocation, and on the guest's fill loop run alone beside Unicorn running the same
 * machine code, and the {@code fill} workload on KVM where it runs; in rounds, the modes alternating
 * within a round, with a profile of where the emulated vCPU's time goes.
 */
@ProviderType
public interface CpuBenchmark {

    /**
     * Runs the benchmark and writes {@code results.json} (and the profile's {@code profile.jfr}) into a new
     * folder under the request's results root.
     *
     * @param progress one line per step, for a user watching
     */
    CpuBenchReport run(CpuBenchRequest request, Consumer<String> progress);
}

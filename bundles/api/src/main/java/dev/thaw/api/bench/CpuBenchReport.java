package dev.thaw.api.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A CPU benchmark run's outcome.
 *
 * @param request what was measured
 * @param rows {@code emulated fill}, {@code emulated function}, {@code emulated fill-loop},
 *     {@code unicorn fill-loop}, {@code kvm fill}, in that order
 * @param ratios by name: {@code fill-loop emulated/unicorn} (the target: at least 0.2) and
 *     {@code fill emulated/kvm}, each of instructions per second; a ratio with a missing side is left out
 * @param profile where the emulated vCPU's time goes on {@code fill}
 * @param notes what a reader should know: what each row ran, skipped rows, checksums
 * @param resultsDir where {@code results.json} and {@code profile.jfr} were written
 */
public record CpuBenchReport(CpuBenchRequest request, List<Row> rows, Map<String, Double> ratios, Profile profile,
        List<String> notes, Path resultsDir) {

    public CpuBenchReport {
        rows = List.copyOf(rows);
        ratios = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ratios)); // in the order given
        notes = List.copyOf(notes);
    }

    /**
     * One runner on one workload: medians over the rounds; null where a figure is missing (the note says why).
     *
     * @param runner {@code emulated}, {@code unicorn} or {@code kvm}
     * @param workload {@code fill} (the guest's workload, boot to result line), {@code function} (one
     *     invocation) or {@code fill-loop} (the guest's fill loop alone)
     * @param instructions guest instructions of one run
     * @param ms wall time of one run
     * @param mips million guest instructions per second (the median of the rounds' rates)
     * @param note how it was measured, or why it is missing
     */
    public record Row(String runner, String workload, Long instructions, Double ms, Double mips, String note) {

        /** {@code runner workload}, e.g. {@code emulated fill}. */
        public String mode() {
            return runner + " " + workload;
        }
    }

    /**
     * Where the time goes: samples of the emulated vCPU's thread's stack during one more {@code fill} run.
     *
     * @param samples the vCPU thread's samples (0 when there is no profile; the note says why)
     * @param top the methods the samples were in (the innermost frame, inlined methods as themselves), most first
     * @param note how the samples were taken, or why there are none
     */
    public record Profile(long samples, List<Frame> top, String note) {

        public Profile {
            top = List.copyOf(top);
        }
    }

    /**
     * @param method {@code Class.method} (the class's simple name)
     * @param samples samples whose innermost frame it was
     * @param share of all the profile's samples, 0 to 1
     */
    public record Frame(String method, long samples, double share) {}
}

package dev.thaw.bench.impl;

import dev.thaw.api.bench.BenchRow;
import java.util.List;
import java.util.function.Function;

/** One mode's figures from one round; null where a figure does not apply. */
record Sample(Double resumeLatencyMs, Double firstInvocationMs, Double warmInvocationMs, Long faults,
        Double faultLatencyP50Us, Double faultLatencyP99Us, Double faultCostUs, Long pagesFault, Long pagesPrefetch, Long pagesBackground,
        Long wastedPages, Double fullLoadMs, Double bandwidthMBps) {

    static Sample timesOnly(Double resumeLatencyMs, Double firstInvocationMs, Double warmInvocationMs, Double fullLoadMs,
            Double bandwidthMBps) {
        return new Sample(resumeLatencyMs, firstInvocationMs, warmInvocationMs, null, null, null, null, null, null, null,
                null, fullLoadMs, bandwidthMBps);
    }

    /** The row of a mode: each figure the median of its rounds. */
    static BenchRow median(String mode, List<Sample> samples, String note) {
        return new BenchRow(mode, d(samples, Sample::resumeLatencyMs), d(samples, Sample::firstInvocationMs),
                d(samples, Sample::warmInvocationMs), l(samples, Sample::faults), d(samples, Sample::faultLatencyP50Us),
                d(samples, Sample::faultLatencyP99Us), d(samples, Sample::faultCostUs), l(samples, Sample::pagesFault), l(samples, Sample::pagesPrefetch),
                l(samples, Sample::pagesBackground), l(samples, Sample::wastedPages), d(samples, Sample::fullLoadMs),
                d(samples, Sample::bandwidthMBps), note);
    }

    private static Double d(List<Sample> samples, Function<Sample, Double> field) {
        return Median.of(samples.stream().map(field).toList());
    }

    private static Long l(List<Sample> samples, Function<Sample, Long> field) {
        return Median.ofLongs(samples.stream().map(field).toList());
    }
}

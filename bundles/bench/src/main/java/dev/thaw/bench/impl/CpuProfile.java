package dev.thaw.bench.impl;

import dev.thaw.api.bench.CpuBenchReport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a vCPU thread's time goes: a JDK Flight Recorder recording of {@code jdk.ExecutionSample} (every
 * millisecond, not biased to safepoints) while one workload runs, reduced to the methods the vCPU thread's
 * samples were in. Samples cover the thread while it runs Java code; time in native calls (first touches
 * of pages through madvise) and asleep in HLT is not in them.
 */
final class CpuProfile {

    static final String EVENT = "jdk.ExecutionSample";
    static final Duration PERIOD = Duration.ofMillis(1);
    static final int TOP = 15;

    private CpuProfile() {}

    /**
     * Records while {@code work} runs, keeps the recording as {@code file}, and returns the top methods of
     * the samples whose stack runs through a class named {@code loopClass} (the vCPU's run loop: its threads
     * are pooled, so their names do not say which VM they serve); a profile that cannot be taken
     * (JFR disabled, say) says why instead of failing the benchmark.
     */
    static CpuBenchReport.Profile record(Runnable work, Path file, String loopClass, String what) {
        Recording recording;
        try {
            recording = new Recording();
            recording.enable(EVENT).withPeriod(PERIOD).withStackTrace();
            recording.setDestination(file);
            recording.start();
        } catch (IOException | RuntimeException e) {
            return new CpuBenchReport.Profile(0, List.of(), "no profile: JDK Flight Recorder could not record: " + e);
        }
        try {
            work.run();
        } finally {
            recording.stop(); // writes the destination
            recording.close();
        }
        try {
            return reduce(RecordingFile.readAllEvents(file), loopClass, what, file);
        } catch (IOException e) {
            return new CpuBenchReport.Profile(0, List.of(), "no profile: cannot read " + file + ": " + e.getMessage());
        }
    }

    static CpuBenchReport.Profile reduce(List<RecordedEvent> events, String loopClass, String what, Path file) {
        Map<String, Long> counts = new HashMap<>();
        long samples = 0;
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals(EVENT)) {
                continue;
            }
            if (e.getStackTrace() == null || e.getStackTrace().getFrames().isEmpty()
                    || e.getStackTrace().getFrames().stream().noneMatch(f -> f.getMethod().getType().getName().equals(loopClass))) {
                continue;
            }
            samples++;
            counts.merge(method(e.getStackTrace().getFrames().getFirst()), 1L, Long::sum);
        }
        long total = samples;
        List<CpuBenchReport.Frame> top = new ArrayList<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()))
                .limit(TOP)
                .forEach(en -> top.add(new CpuBenchReport.Frame(en.getKey(), en.getValue(), en.getValue() / (double) total)));
        String note = samples == 0 ? "no samples of a vCPU thread (running " + loopClass + ") were taken during " + what
                : EVENT + " every " + PERIOD.toMillis() + " ms of the vCPU thread during " + what + ", by innermost method "
                        + "(inlined methods as themselves); Java code only, not native calls or HLT; the recording: " + file;
        return new CpuBenchReport.Profile(samples, top, note);
    }

    /** {@code SimpleClass.method} of a frame. */
    static String method(RecordedFrame frame) {
        String type = frame.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + frame.getMethod().getName();
    }
}

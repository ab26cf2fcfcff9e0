package dev.thaw.bench.impl;

import dev.thaw.api.bench.CodeLoopRunner;
import dev.thaw.api.bench.CpuBenchReport;
import dev.thaw.api.bench.CpuBenchRequest;
import dev.thaw.api.bench.CpuBenchmark;
import dev.thaw.api.bench.LoopRequest;
import dev.thaw.api.bench.LoopRun;
import dev.thaw.api.runtime.VirtualMachine;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmException;
import dev.thaw.api.vm.VmManager;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * {@code thaw:bench cpu} (see {@link CpuBenchmark}). One warm-up round first (the JIT compiles the
 * interpreter there, as it would in a platform that has run guests before), then the measured rounds,
 * each mode once per round, so that the machine's noise falls on all modes alike; then one more emulated
 * {@code fill} under JDK Flight Recorder for the profile. Every run must compute what the others compute
 * (the same {@code fill} result line on every runtime, the fill pattern in every word of the fill loop's
 * memory), or the benchmark fails.
 */
@Component(service = CpuBenchmark.class)
public final class CpuBench implements CpuBenchmark {

    /** The emulated runtime's vCPU run loop: a profile sample whose stack runs through it is a vCPU's. */
    static final String VCPU_LOOP = "dev.thaw.emulated.impl.EmulatedVcpu";

    static final String EMULATED = "emulated";
    static final String UNICORN = UnicornLoopRunner.NAME;
    static final String KVM = "kvm";
    static final String FILL = "fill";
    static final String FUNCTION = "function";
    static final String FILL_LOOP = "fill-loop";
    static final long SEED = 1;
    /** Where the fill loop's code goes; its memory is the guest's fill range, [4 MiB, memory end). */
    static final long CODE_ADDRESS = LoopRequest.SYSTEM_BYTES;
    static final long DATA = 4L << 20;
    /** The fill loop's stack pointer (it uses no stack). */
    static final long STACK = DATA - 4096;
    /** Longer than any fill of a guest that fits this machine takes on the emulated runtime. */
    static final Duration TIMEOUT = Duration.ofMinutes(15);
    private static final String NAME_PREFIX = "bench-cpu-";

    private final VmManager vms;
    private final List<CodeLoopRunner> runners = new CopyOnWriteArrayList<>();
    private int vmNumber;

    @Activate
    public CpuBench(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addRunner(CodeLoopRunner runner) {
        runners.add(runner);
    }

    void removeRunner(CodeLoopRunner runner) {
        runners.remove(runner);
    }

    @Override
    public CpuBenchReport run(CpuBenchRequest request, Consumer<String> progress) {
        long loopAt = FillLoop.find(FillLoop.shippedImage()); // fails clearly when the guest's loop changed
        List<String> notes = new ArrayList<>();
        Optional<CodeLoopRunner> interpreter = runners.stream().filter(r -> r.name().equals(EMULATED)).findFirst();
        UnicornLoopRunner unicorn = new UnicornLoopRunner();
        Optional<String> noInterpreter = interpreter.isPresent() ? interpreter.get().unavailableReason()
                : Optional.of("no emulated code loop runner is installed (the emulated runtime's bundle provides it)");
        Optional<String> noUnicorn = unicorn.unavailableReason();
        Optional<String> noKvm = runtimeUnavailable(KVM);
        runtimeUnavailable(EMULATED).ifPresent(why -> {
            throw new VmException("bench: the emulated runtime cannot run here: " + why);
        });
        Map<String, List<CpuResults.Run>> runs = new LinkedHashMap<>();
        List<Long> checksums = new ArrayList<>();
        String[] fillResult = {null};
        long workingSet = workingSet(request.memoryBytes());
        long words = (request.memoryBytes() - DATA) / 8;
        progress.accept("booting a function guest (" + mib(request.memoryBytes()) + " MiB, " + mib(workingSet)
                + " MiB working set) for the function rows");
        Vm function = vms.boot(new BootRequest(NAME_PREFIX + "function", request.memoryBytes(), 1, Workload.FUNCTION, SEED,
                workingSet, TouchOrder.SEQUENTIAL, BootRequest.DEFAULT_STRIDE), EMULATED);
        try (Mapping memory = Mapping.anonymous(request.memoryBytes(), Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE)) {
            function.awaitLine("result function", 0, TIMEOUT);
            function.invoke(TIMEOUT); // the warm invocation
            LoopRequest loop = new LoopRequest(memory.segment(), CODE_ADDRESS, FillLoop.CODE,
                    FillLoop.registers(SEED, DATA, request.memoryBytes(), STACK));
            for (int round = 0; round <= request.repeat(); round++) {
                progress.accept(round == 0 ? "warm-up round (not in the medians)" : "round " + round + " of " + request.repeat());
                boolean counted = round > 0;
                CpuResults.Run emulatedFill = fill(EMULATED, request, fillResult);
                record(runs, EMULATED, FILL, counted, emulatedFill);
                record(runs, EMULATED, FUNCTION, counted, invocation(function));
                Long loopInstructions = null;
                if (noInterpreter.isEmpty()) {
                    LoopRun r = runLoop(interpreter.get(), loop, request, words, checksums);
                    loopInstructions = r.instructions();
                    record(runs, EMULATED, FILL_LOOP, counted, new CpuResults.Run(r.instructions(), r.nanos() / 1e6));
                }
                if (noUnicorn.isEmpty()) {
                    LoopRun r = runLoop(unicorn, loop, request, words, checksums);
                    record(runs, UNICORN, FILL_LOOP, counted, new CpuResults.Run(loopInstructions, r.nanos() / 1e6));
                }
                if (noKvm.isEmpty()) {
                    CpuResults.Run kvm = fill(KVM, request, fillResult);
                    // KVM counts no instructions: the emulated run of the same guest did the same work
                    record(runs, KVM, FILL, counted, new CpuResults.Run(emulatedFill.instructions(), kvm.ms()));
                }
            }
        } finally {
            function.stop();
        }
        progress.accept("profiling one more emulated fill with JDK Flight Recorder");
        java.nio.file.Path dir = ResultsFolder.create(request.resultsRoot(), "cpu");
        String profiled = NAME_PREFIX + "profile";
        CpuBenchReport.Profile profile;
        try {
            profile = CpuProfile.record(() -> fill(EMULATED, profiled, request, fillResult), dir.resolve("profile.jfr"),
                    VCPU_LOOP, "the emulated fill");
        } catch (NoClassDefFoundError e) {
            profile = new CpuBenchReport.Profile(0, List.of(), "no profile: JDK Flight Recorder (jdk.jfr) is not available to "
                    + "the bench bundle: " + e.getMessage());
        }

        List<CpuBenchReport.Row> rows = new ArrayList<>();
        String fillHow = "the fill workload, " + mib(request.memoryBytes()) + " MiB, 1 vCPU: boot request to its result line ("
                + fillResult[0] + ")";
        rows.add(CpuResults.row(EMULATED, FILL, runs.get(EMULATED + " " + FILL),
                fillHow + "; instructions: the runtime's counter, boot to exit"));
        rows.add(CpuResults.row(EMULATED, FUNCTION, runs.get(EMULATED + " " + FUNCTION), "one invocation (" + mib(workingSet)
                + " MiB working set) after the init and a warm one: the counter's advance over the host-side invocation time, "
                + "UART round trips included"));
        String loopHow = "the guest's fill loop (" + FillLoop.CODE.length + " bytes at guest 0x" + Long.toHexString(loopAt)
                + " of the shipped image, " + FillLoop.INSTRUCTIONS_PER_WORD + " instructions per word) alone at CPL 3 over [4, "
                + mib(request.memoryBytes()) + ") MiB";
        rows.add(noInterpreter.isPresent() ? CpuResults.missing(EMULATED, FILL_LOOP, "emulated fill-loop row skipped: " + noInterpreter.get())
                : CpuResults.row(EMULATED, FILL_LOOP, runs.get(EMULATED + " " + FILL_LOOP), loopHow + ": "
                        + interpreter.get().description()));
        rows.add(noUnicorn.isPresent() ? CpuResults.missing(UNICORN, FILL_LOOP, "unicorn row skipped: " + noUnicorn.get())
                : CpuResults.row(UNICORN, FILL_LOOP, runs.get(UNICORN + " " + FILL_LOOP), "the same code over the same memory: "
                        + unicorn.description() + "; instructions: the interpreter's count of the same loop"));
        rows.add(noKvm.isPresent() ? CpuResults.missing(KVM, FILL, "kvm row skipped: " + noKvm.get())
                : CpuResults.row(KVM, FILL, runs.get(KVM + " " + FILL), fillHow + "; instructions: the emulated fill's count "
                        + "(the same guest doing the same work; KVM counts none)"));
        if (!checksums.isEmpty()) {
            notes.add("fill loop: " + words + " words, " + words * FillLoop.INSTRUCTIONS_PER_WORD + " instructions; each of its "
                    + checksums.size() + " runs wrote the fill pattern (seed " + SEED + ") into every word: checksum 0x"
                    + Long.toHexString(checksums.getFirst()) + " each time");
        }
        notes.add("medians of " + request.repeat() + " rounds after one warm-up round; in each round: emulated fill, emulated "
                + "function, emulated fill-loop, unicorn fill-loop, kvm fill");
        notes.add("target: fill-loop emulated/unicorn >= 0.2 (instructions per second)");
        CpuBenchReport report = new CpuBenchReport(request, rows, CpuResults.ratios(rows), profile, notes, dir);
        CpuResults.write(report);
        return report;
    }

    /** Why the runtime named {@code name} cannot run here, or empty when it can. */
    private Optional<String> runtimeUnavailable(String name) {
        return vms.runtimes().stream().filter(r -> r.name().equals(name)).findFirst()
                .map(r -> r.available() ? Optional.<String>empty() : Optional.of(r.unavailableReason()))
                .orElse(Optional.of("the " + name + " runtime is not installed"));
    }

    /** Half the memory above the guest's own pages, in whole pages. */
    static long workingSet(long memoryBytes) {
        return (memoryBytes - DATA) / 2 & -4096L;
    }

    private static void record(Map<String, List<CpuResults.Run>> runs, String runner, String workload, boolean counted,
            CpuResults.Run run) {
        List<CpuResults.Run> list = runs.computeIfAbsent(runner + " " + workload, k -> new ArrayList<>());
        if (counted) {
            list.add(run);
        }
    }

    private CpuResults.Run fill(String runtime, CpuBenchRequest request, String[] result) {
        return fill(runtime, NAME_PREFIX + (++vmNumber), request, result);
    }

    /**
     * Boots {@code fill} on {@code runtime}: the time from the boot request to its result line, and the
     * instructions the runtime counted until the guest exited (null where it counts none).
     */
    private CpuResults.Run fill(String runtime, String name, CpuBenchRequest request, String[] result) {
        long start = System.nanoTime();
        Vm vm = vms.boot(new BootRequest(name, request.memoryBytes(), 1, Workload.FILL, SEED, 4096, TouchOrder.SEQUENTIAL,
                BootRequest.DEFAULT_STRIDE), runtime);
        try {
            String line = vm.awaitLine("result fill", 0, TIMEOUT);
            double ms = (System.nanoTime() - start) / 1e6;
            if (result[0] == null) {
                result[0] = line;
            } else if (!result[0].equals(line)) {
                throw new VmException("bench: fill on " + runtime + " computed '" + line + "', an earlier run '" + result[0] + "'");
            }
            awaitExit(vm);
            Map<String, Long> counters = vm.runtimeCounters();
            Long unimplemented = counters.get(VirtualMachine.UNIMPLEMENTED_OPCODES);
            if (unimplemented != null && unimplemented != 0) {
                throw new VmException("bench: the guest ran " + unimplemented + " opcodes the " + runtime + " runtime lacks");
            }
            return new CpuResults.Run(counters.get(VirtualMachine.INSTRUCTIONS), ms);
        } finally {
            vm.stop();
        }
    }

    /** Waits for the fill guest's exit (it exits right after its result line), so its count is final. */
    private static void awaitExit(Vm vm) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (vm.info().status() == VmStatus.RUNNING) {
            if (System.nanoTime() > deadline) {
                throw new VmException("bench: " + vm.id() + " printed its result but did not exit");
            }
            LockSupport.parkNanos(1_000_000);
        }
        if (vm.info().status() != VmStatus.EXITED || vm.info().exitCode() != 0) {
            throw new VmException("bench: " + vm.id() + " ended " + vm.info().status() + " " + vm.info().reason());
        }
    }

    /** One invocation: the instructions the runtime counted during it, over its host-side time. */
    private static CpuResults.Run invocation(Vm vm) {
        Long before = vm.runtimeCounters().get(VirtualMachine.INSTRUCTIONS);
        Invocation i = vm.invoke(TIMEOUT);
        Long after = vm.runtimeCounters().get(VirtualMachine.INSTRUCTIONS);
        return new CpuResults.Run(before == null || after == null ? null : after - before, i.elapsed().toNanos() / 1e6);
    }

    /** One run of the fill loop on {@code runner}: over memory cleared first, checked word by word after. */
    private static LoopRun runLoop(CodeLoopRunner runner, LoopRequest loop, CpuBenchRequest request, long words,
            List<Long> checksums) {
        FillLoop.clear(loop.memory(), DATA, request.memoryBytes());
        LoopRun run = runner.run(loop);
        if (run.registers()[FillLoop.RCX] != request.memoryBytes()) {
            throw new IllegalStateException("bench: the fill loop on " + runner.name() + " ended with rcx 0x"
                    + Long.toHexString(run.registers()[FillLoop.RCX]) + ", not at the memory's end");
        }
        checksums.add(FillLoop.verify(loop.memory(), DATA, request.memoryBytes(), SEED, "bench: the fill loop on " + runner.name()));
        if (run.instructions() >= 0 && run.instructions() != words * FillLoop.INSTRUCTIONS_PER_WORD) {
            throw new IllegalStateException("bench: " + runner.name() + " counted " + run.instructions() + " instructions of the "
                    + "fill loop over " + words + " words, not " + words * FillLoop.INSTRUCTIONS_PER_WORD);
        }
        return run;
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}

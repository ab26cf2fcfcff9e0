package dev.thaw.shell.impl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Invocation;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmInfo;
import dev.thaw.api.vm.VmManager;
import dev.thaw.api.vm.VmStatus;
import dev.thaw.api.vm.Workload;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** Gogo commands to boot, list, watch, invoke and stop VMs running the test guest. */
@Component(service = VmCommands.class, property = {
    "osgi.command.scope=thaw",
    "osgi.command.function=boot",
    "osgi.command.function=vms",
    "osgi.command.function=console",
    "osgi.command.function=invoke",
    "osgi.command.function=stop",
    "osgi.command.function=runtimes"
})
public final class VmCommands {

    private final VmManager vms;
    private final ObjectMapper json = new ObjectMapper();

    @Activate
    public VmCommands(@Reference VmManager vms) {
        this.vms = vms;
    }

    @Descriptor("boot the test guest in a new VM")
    public void boot(
            CommandSession session,
            @Descriptor("guest RAM, e.g. 256M or 4G (default 256M)") @Parameter(names = {"-m", "--memory"}, absentValue = "256M") String memory,
            @Descriptor("number of vCPUs (default 1)") @Parameter(names = "--vcpus", absentValue = "1") String vcpus,
            @Descriptor("fill, touch or function (default function)") @Parameter(names = {"-w", "--workload"}, absentValue = "function") String workload,
            @Descriptor("seed of the workload's data and order (default 1)") @Parameter(names = "--seed", absentValue = "1") String seed,
            @Descriptor("memory the touch and function workloads use (default 32M)") @Parameter(names = "--working-set", absentValue = "32M") String workingSet,
            @Descriptor("memory the function workload keeps filled, of which each invocation reads its working set (default: the working set)")
            @Parameter(names = "--resident", absentValue = "") String resident,
            @Descriptor("percent of the pages each function invocation reads that it also writes, 1 to 100 (default 100)")
            @Parameter(names = "--write-percent", absentValue = "100") String writePercent,
            @Descriptor("page order of touch: sequential, random or strided (default sequential)") @Parameter(names = "--order", absentValue = "sequential") String order,
            @Descriptor("stride of the strided touch order (default 64K)") @Parameter(names = "--stride", absentValue = "64K") String stride,
            @Descriptor("the VM's id (default: vm1, vm2, ...)") @Parameter(names = "--name", absentValue = "") String name,
            @Descriptor("the runtime: kvm, emulated, qemu, ... (default: config/dev.thaw.machine.cfg; thaw:runtimes lists them)")
            @Parameter(names = "--runtime", absentValue = "") String runtime,
            @Descriptor("return after the workload's first result line, and print it") @Parameter(names = "--wait", presentValue = "true", absentValue = "false") boolean wait,
            @Descriptor("seconds --wait waits at most (default 600)") @Parameter(names = "--timeout", absentValue = "600") String timeout,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson) {
        BootRequest request = new BootRequest(
                name.isEmpty() ? null : name,
                Sizes.parse("--memory", memory),
                Options.positiveInt("--vcpus", vcpus),
                Workload.parse(workload),
                Options.parseLong("--seed", seed),
                Sizes.parse("--working-set", workingSet),
                TouchOrder.parse(order),
                Sizes.parse("--stride", stride),
                resident.isEmpty() ? BootRequest.RESIDENT_AS_WORKING_SET : Sizes.parse("--resident", resident),
                Options.percent("--write-percent", writePercent));
        long started = System.nanoTime();
        Vm vm = vms.boot(request, runtime.isEmpty() ? null : runtime);
        String result = null;
        Duration resultAfter = null;
        if (wait) {
            result = vm.awaitLine("result ", 0, Options.seconds("--timeout", timeout));
            resultAfter = Duration.ofNanos(System.nanoTime() - started);
        }
        VmInfo info = vm.info();
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = infoJson(info);
            if (wait) {
                m.put("result", result);
                m.put("resultMs", millis(resultAfter));
            }
            out.println(toJson(m));
            return;
        }
        out.printf("%s booted on %s: %s, %d vCPU%s, workload %s%n", info.id(), info.runtime(), Sizes.format(info.memoryBytes()),
                info.vcpus(), info.vcpus() == 1 ? "" : "s", info.workload().label());
        if (wait) {
            out.println(result);
            out.printf("first output %s ms, result %s ms after boot%n", millis(vm.info().firstOutput()), millis(resultAfter));
        }
    }

    @Descriptor("list the VMs")
    public void vms(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson) {
        List<Vm> listed = vms.list();
        PrintStream out = session.getConsole();
        if (asJson) {
            out.println(toJson(Map.of("vms", listed.stream().map(VmCommands::infoJson).toList())));
            return;
        }
        List<VmInfo> infos = listed.stream().map(Vm::info).toList();
        Table table = new Table("ID", "STATE", "RUNTIME", "MEMORY", "VCPUS", "WORKLOAD", "UPTIME").numeric(3, 4, 6);
        for (VmInfo i : infos) {
            table.row(i.id(), state(i), i.runtime(), Sizes.format(i.memoryBytes()), i.vcpus(), i.workload().label(),
                    uptime(i.uptime()));
        }
        table.print(out);
    }

    @Descriptor("list the runtimes: whether each can run VMs here (or why not), and the default")
    public void runtimes(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson) {
        List<RuntimeInfo> runtimes = vms.runtimes();
        PrintStream out = session.getConsole();
        if (asJson) {
            out.println(toJson(Map.of("runtimes", runtimes.stream().map(r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", r.name());
                m.put("description", r.description());
                m.put("available", r.available());
                if (!r.available()) {
                    m.put("unavailableReason", r.unavailableReason());
                }
                m.put("default", r.isDefault());
                if (r.isDefault()) {
                    m.put("whyDefault", r.whyDefault());
                }
                return m;
            }).toList())));
            return;
        }
        Table table = new Table("RUNTIME", "DEFAULT", "AVAILABLE", "WHAT");
        for (RuntimeInfo r : runtimes) {
            table.row(r.name(), r.isDefault() ? "*" : "", r.available() ? "yes" : "no: " + r.unavailableReason(), r.description());
        }
        table.print(out);
        runtimes.stream().filter(RuntimeInfo::isDefault).findFirst()
                .ifPresent(r -> out.printf("default: %s (%s)%n", r.name(), r.whyDefault()));
    }

    @Descriptor("show a VM's serial console; with --follow, stream it and send typed lines to the guest")
    public void console(
            CommandSession session,
            @Descriptor("keep showing output and send typed lines to the guest until the VM stops or ~. is typed")
            @Parameter(names = {"-f", "--follow"}, presentValue = "true", absentValue = "false") boolean follow,
            @Descriptor("print the output so far as JSON (not with --follow)")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id") String id) throws InterruptedException {
        Vm vm = find(id);
        PrintStream out = session.getConsole();
        if (asJson) {
            if (follow) {
                throw new IllegalArgumentException("thaw:console --json prints the output so far; it does not --follow");
            }
            out.println(toJson(Map.of("id", id, "text", vm.consoleText())));
            return;
        }
        if (!follow) {
            out.print(vm.consoleText());
            out.flush();
            return;
        }
        new ConsoleFollower(vm, session.getKeyboard(), out).run();
    }

    @Descriptor("run one invocation of the function workload and show its result and host-side time")
    public void invoke(
            CommandSession session,
            @Descriptor("seconds to wait for the result (default 60)") @Parameter(names = "--timeout", absentValue = "60") String timeout,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id") String id) {
        Invocation inv = find(id).invoke(Options.seconds("--timeout", timeout));
        PrintStream out = session.getConsole();
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("invocation", inv.index());
            m.put("result", inv.resultLine());
            m.put("elapsedMs", millis(inv.elapsed()));
            out.println(toJson(m));
            return;
        }
        out.println(inv.resultLine());
        out.printf("invocation %d of %s took %s ms%n", inv.index(), id, millis(inv.elapsed()));
    }

    @Descriptor("stop a VM and free everything it holds")
    public void stop(
            CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("VM id") String id) {
        Vm vm = find(id);
        vm.stop();
        session.getConsole().println(asJson ? toJson(infoJson(vm)) : id + " stopped");
    }

    private Vm find(String id) {
        return Arguments.vm(vms, id);
    }

    private static String state(VmInfo i) {
        return switch (i.status()) {
            case EXITED -> "exited(" + i.exitCode() + ")";
            case FAILED -> "failed";
            default -> i.status().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String uptime(Duration d) {
        long s = d.toSeconds();
        return s < 60 ? String.format("%.1fs", d.toMillis() / 1000.0) : String.format("%dm%02ds", s / 60, s % 60);
    }

    /** {@link #infoJson(VmInfo)}, and the runtime's counters as {@code counters} where it counts anything. */
    static Map<String, Object> infoJson(Vm vm) {
        Map<String, Object> m = infoJson(vm.info());
        Map<String, Long> counters = vm.runtimeCounters();
        if (!counters.isEmpty()) {
            m.put("counters", counters);
        }
        return m;
    }

    static Map<String, Object> infoJson(VmInfo i) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", i.id());
        m.put("state", i.status().name().toLowerCase(java.util.Locale.ROOT));
        m.put("memory", i.memoryBytes());
        m.put("vcpus", i.vcpus());
        m.put("workload", i.workload().label());
        m.put("runtime", i.runtime());
        m.put("uptimeMs", i.uptime().toMillis());
        if (i.status() == VmStatus.EXITED) {
            m.put("exitCode", i.exitCode());
        }
        if (i.status() == VmStatus.FAILED) {
            m.put("reason", i.reason());
        }
        if (i.firstOutput() != null) {
            m.put("firstOutputMs", millis(i.firstOutput()));
        }
        if (i.resumeLatency() != null) {
            m.put("resumeLatencyMs", millis(i.resumeLatency()));
        }
        return m;
    }

    /** Milliseconds with 0.1 ms resolution, as a number for JSON and text alike. */
    static double millis(Duration d) {
        return d == null ? Double.NaN : Math.round(d.toNanos() / 100_000.0) / 10.0;
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.vm.ProcessRuntime;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.vm.VmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installed runtimes (whiteboard: each a {@link VcpuRuntime} service named by
 * {@link VcpuRuntime#NAME_PROPERTY}, or a {@link ProcessRuntime} that runs whole VMs in a process of its own) and which one a VM runs on when its command names none, as
 * {@code config/dev.thaw.machine.cfg} says: {@code auto} is KVM where {@code /dev/kvm} opens, else the
 * emulated runtime; or a runtime by name. A change with a bad value is refused with the reason logged,
 * and the choice before it stays.
 */
@Component(service = RuntimeChooser.class, configurationPid = RuntimeChooser.PID)
@Designate(ocd = RuntimeChooser.Config.class)
public final class RuntimeChooser {

    static final String PID = "dev.thaw.machine";
    static final String AUTO = "auto";
    static final String KVM = "kvm";
    static final String EMULATED = "emulated";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,39}");
    private static final Logger LOG = LoggerFactory.getLogger(RuntimeChooser.class);

    @ObjectClassDefinition(name = "Thaw machine", description = "Which vCPU runtime runs VMs whose command names none: "
            + "config/dev.thaw.machine.cfg; a change applies to the next boot or restore")
    public @interface Config {
        @AttributeDefinition(name = "Runtime", description = "auto: kvm where /dev/kvm opens, else emulated; or the name "
                + "of an installed runtime (thaw:runtimes lists them)")
        String runtime() default AUTO;
    }

    private final Map<String, VcpuRuntime> runtimes = new ConcurrentSkipListMap<>();
    private final Map<String, ProcessRuntime> processRuntimes = new ConcurrentSkipListMap<>();
    private volatile String configured = AUTO;
    /** The last auto choice reported in the log, so that it is said once, not at every boot. */
    private volatile String lastAutoChoice = "";

    @Activate
    public RuntimeChooser(Config config) {
        apply(config);
    }

    @Modified
    void modified(Config config) {
        apply(config);
    }

    private void apply(Config config) {
        String wanted = config.runtime() == null ? "" : config.runtime().strip();
        if (!NAME.matcher(wanted).matches()) {
            LOG.warn("configuration {} refused: runtime '{}' is neither auto nor a runtime name; {} stays in force", PID, wanted,
                    configured);
            return;
        }
        configured = wanted;
        LOG.info("vCPU runtime: {}", wanted);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addRuntime(VcpuRuntime runtime, Map<String, Object> properties) {
        runtimes.put(name(runtime, properties), runtime);
    }

    void removeRuntime(VcpuRuntime runtime, Map<String, Object> properties) {
        runtimes.remove(name(runtime, properties), runtime);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addProcessRuntime(ProcessRuntime runtime) {
        processRuntimes.put(runtime.name(), runtime);
    }

    void removeProcessRuntime(ProcessRuntime runtime) {
        processRuntimes.remove(runtime.name(), runtime);
    }

    /**
     * The runtime that runs whole VMs in a process of its own which {@code requested} (or, null, the
     * configuration) names, ready to make a VM; empty when the name is a vCPU runtime's or {@code auto}.
     *
     * @throws VmException when it is installed but cannot run here (the message says why)
     */
    Optional<ProcessRuntime> processRuntime(String requested) {
        ProcessRuntime runtime = processRuntimes.get(requested != null ? requested : configured);
        if (runtime == null) {
            return Optional.empty();
        }
        runtime.unavailableReason().ifPresent(why -> {
            throw new VmException("the " + runtime.name() + " runtime cannot run VMs here: " + why);
        });
        return Optional.of(runtime);
    }

    /** The installed process runtime that restores snapshots of {@code format}, if any. */
    Optional<ProcessRuntime> restoring(String format) {
        return processRuntimes.values().stream().filter(r -> r.restores(format)).findFirst();
    }

    private static String name(VcpuRuntime runtime, Map<String, Object> properties) {
        Object named = properties.get(VcpuRuntime.NAME_PROPERTY);
        return named instanceof String s && !s.isBlank() ? s : runtime.name();
    }

    /**
     * The runtime {@code requested} by a command, or (null) the configured one, ready to make a VM.
     *
     * @throws IllegalArgumentException when no runtime of that name is installed
     * @throws VmException when it is installed but cannot run here (the message says why)
     */
    VcpuRuntime choose(String requested) {
        String name = requested != null ? requested : configured;
        if (name.equals(AUTO)) {
            return auto();
        }
        VcpuRuntime runtime = runtimes.get(name);
        if (runtime == null) {
            throw new IllegalArgumentException("no vCPU runtime named '" + name + "' is installed (installed: "
                    + String.join(", ", installedNames()) + ")" + (requested == null ? "; config/" + PID + ".cfg names it" : ""));
        }
        Optional<String> why = runtime.unavailableReason();
        if (why.isPresent()) {
            throw new VmException("the " + name + " runtime cannot run VMs here: " + why.get());
        }
        return runtime;
    }

    private VcpuRuntime auto() {
        VcpuRuntime kvm = runtimes.get(KVM);
        Optional<String> kvmProblem = kvm == null ? Optional.of("the KVM runtime is not installed") : kvm.unavailableReason();
        VcpuRuntime chosen = kvmProblem.isEmpty() ? kvm : runtimes.get(EMULATED);
        if (chosen == null) {
            throw new VmException("no vCPU runtime can run VMs here: " + kvmProblem.get() + ", and the emulated runtime is not installed");
        }
        String said = chosen.name() + kvmProblem.map(p -> " (" + p + ")").orElse("");
        if (!said.equals(lastAutoChoice)) {
            lastAutoChoice = said;
            if (kvmProblem.isEmpty()) {
                LOG.info("vCPU runtime auto: kvm, since /dev/kvm opens");
            } else {
                LOG.info("vCPU runtime auto: emulated, since KVM cannot be used: {}", kvmProblem.get());
            }
        }
        return chosen;
    }

    /** Why the default runtime is the one it is, for listings and the demo's first lines. */
    String whyDefault(String name) {
        if (!configured.equals(AUTO)) {
            return "config/" + PID + ".cfg says runtime=" + configured;
        }
        VcpuRuntime kvm = runtimes.get(KVM);
        Optional<String> kvmProblem = kvm == null ? Optional.of("the KVM runtime is not installed") : kvm.unavailableReason();
        return name.equals(KVM) ? "runtime=auto, and /dev/kvm opens" : "runtime=auto, and KVM cannot be used: " + kvmProblem.orElse("");
    }

    private List<String> installedNames() {
        List<String> names = new ArrayList<>(runtimes.keySet());
        names.addAll(processRuntimes.keySet());
        return names.stream().sorted().toList();
    }

    /** Every installed runtime, the default marked. */
    List<RuntimeInfo> list() {
        String defaultName;
        try {
            defaultName = processRuntimes.containsKey(configured) ? configured : choose(null).name();
        } catch (RuntimeException e) {
            defaultName = "";
        }
        List<RuntimeInfo> out = new ArrayList<>();
        for (Map.Entry<String, VcpuRuntime> e : runtimes.entrySet()) {
            Optional<String> why = e.getValue().unavailableReason();
            boolean isDefault = e.getKey().equals(defaultName);
            out.add(new RuntimeInfo(e.getKey(), e.getValue().description(), why.isEmpty(), why.orElse(""), isDefault,
                    isDefault ? whyDefault(e.getKey()) : ""));
        }
        for (ProcessRuntime r : processRuntimes.values()) {
            Optional<String> why = r.unavailableReason();
            boolean isDefault = r.name().equals(defaultName);
            out.add(new RuntimeInfo(r.name(), r.description(), why.isEmpty(), why.orElse(""), isDefault,
                    isDefault ? whyDefault(r.name()) : ""));
        }
        out.sort(Comparator.comparing(RuntimeInfo::name));
        return out;
    }
}

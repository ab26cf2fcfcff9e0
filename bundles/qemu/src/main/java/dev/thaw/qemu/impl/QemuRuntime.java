package dev.thaw.qemu.impl;

import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.vm.ProcessBoot;
import dev.thaw.api.vm.ProcessRestore;
import dev.thaw.api.vm.ProcessRuntime;
import dev.thaw.api.vm.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
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
 * The qemu runtime: VMs of the test guest in QEMU child processes this platform starts and owns, as
 * {@code config/dev.thaw.qemu.cfg} says (which program, which accelerator). It restores the mapped-ram files it
 * saves: eagerly by QEMU's own load, lazily through the postcopy source.
 */
@Component(service = ProcessRuntime.class, configurationPid = QemuRuntime.PID)
@Designate(ocd = QemuRuntime.Config.class)
public final class QemuRuntime implements ProcessRuntime {

    static final String PID = "dev.thaw.qemu";
    /** The snapshot format QEMU's mapped-ram migration writes, as the format bundle names it. */
    static final String MAPPED_RAM_FORMAT = "qemu-mapped-ram";
    private static final Logger LOG = LoggerFactory.getLogger(QemuRuntime.class);

    @ObjectClassDefinition(name = "Thaw qemu runtime", description = "How the qemu runtime runs QEMU: "
            + "config/dev.thaw.qemu.cfg; a change applies to the next boot or restore")
    public @interface Config {
        @AttributeDefinition(name = "Program", description = "The QEMU program: a name looked up on the PATH, or a path")
        String binary() default "qemu-system-x86_64";

        @AttributeDefinition(name = "Accelerator", description = "auto: kvm where /dev/kvm opens, else tcg; or kvm, or tcg")
        String accel() default "auto";

        @AttributeDefinition(name = "Spare incoming QEMUs", description = "For this many machines (the last restored), "
                + "keep a QEMU started with -incoming defer ready, so that the next restore of that machine, eager or lazy, "
                + "skips QEMU's start-up; 0 keeps none (the default: no QEMU runs unasked)", min = "0", max = "" + MAX_SPARE_MACHINES)
        int spareMachines() default 0;
    }

    static final int MAX_SPARE_MACHINES = 8;

    private final SnapshotSaver saver;
    /** The VMs this runtime made that are not stopped yet: a deactivation ends their QEMUs. */
    private final Set<Vm> running = ConcurrentHashMap.newKeySet();
    private final SpareIncomingQemus spares = new SpareIncomingQemus(0);
    /** The configured program; found and asked its version at first use, not at start-up (it runs it). */
    private String binary; // guarded by this, as is installation
    private QemuInstallation installation;
    private volatile String accel;
    private volatile PostcopyServer postcopy;

    @Activate
    public QemuRuntime(@Reference SnapshotFormats formats, Config config) {
        this.saver = new SnapshotSaver(formats);
        apply(config);
    }

    @Modified
    void modified(Config config) {
        apply(config);
    }

    SpareIncomingQemus spares() {
        return spares;
    }

    /** A new configuration: the program is looked up again at its next use. */
    private void apply(Config config) {
        spares.capacity(Math.clamp(config.spareMachines(), 0, MAX_SPARE_MACHINES));
        synchronized (this) {
            binary = config.binary().strip();
            installation = null;
        }
        accel = switch (config.accel().strip()) {
            case "kvm", "tcg" -> config.accel().strip();
            default -> kvmOpens() ? "kvm" : "tcg";
        };
    }

    /** The configured QEMU as found on this host: looked up and asked its version once per configuration. */
    private synchronized QemuInstallation installation() {
        if (installation == null) {
            QemuInstallation q = QemuInstallation.find(binary);
            q.problem().ifPresentOrElse(p -> LOG.info("qemu runtime unavailable: {}", p),
                    () -> LOG.info("qemu runtime: QEMU {} at {}, accelerator {}", q.version(), q.binary(), accel));
            installation = q;
        }
        return installation;
    }

    private static boolean kvmOpens() {
        Path kvm = Path.of("/dev/kvm");
        return Files.isReadable(kvm) && Files.isWritable(kvm);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setPostcopy(PostcopyServer server) {
        postcopy = server;
    }

    void unsetPostcopy(PostcopyServer server) {
        if (postcopy == server) {
            postcopy = null;
        }
    }

    /** {@code onStopped}, after the VM leaves this runtime's set. */
    private Consumer<Vm> tracked(Consumer<Vm> onStopped) {
        return vm -> {
            running.remove(vm);
            onStopped.accept(vm);
        };
    }

    /** The bundle stops: no QEMU of its VMs or spares may outlive it. */
    @Deactivate
    void deactivate() {
        spares.close();
        for (Vm vm : List.copyOf(running)) {
            try {
                vm.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping {} failed", vm.id(), e);
            }
        }
    }

    @Override
    public String name() {
        return QemuVm.RUNTIME;
    }

    @Override
    public String description() {
        QemuInstallation q = installation();
        return "the guest in a QEMU child process (" + (q.version().isEmpty() ? "QEMU" : "QEMU " + q.version()) + ", " + accel
                + "), saved by QEMU to mapped-ram files, restored lazily through postcopy";
    }

    @Override
    public Optional<String> unavailableReason() {
        return installation().problem();
    }

    @Override
    public boolean restores(String format) {
        return MAPPED_RAM_FORMAT.equals(format);
    }

    @Override
    public Vm boot(ProcessBoot boot) {
        QemuMachine machine = new QemuMachine("pc", boot.request().memoryBytes(), boot.request().vcpus(), boot.lowMemoryLimit());
        QemuVm vm = new QemuVm(boot.id(), boot.request(), machine, null, boot.requestedNanos(), tracked(boot.onStopped()), saver);
        String on = accel;
        QemuProcess process = QemuProcess.start(installation(), boot.id(), dir -> {
            List<String> options = new ArrayList<>(machine.options(on));
            // Multiboot: QEMU loads the image, and the boot parameters page as its first module (guest/README.md)
            options.addAll(List.of(
                    "-kernel", Files.write(dir.resolve("thaw-guest.bin"), boot.image()).toString(),
                    "-initrd", Files.write(dir.resolve("boot-parameters.bin"), boot.bootParameters()).toString()));
            return options;
        }, vm.console());
        vm.attach(process);
        running.add(vm);
        LOG.info("{} running on qemu (pid {}, {}): {} MiB, {} vCPUs, workload {}", boot.id(), process.pid(), on,
                boot.request().memoryBytes() >> 20, boot.request().vcpus(), boot.request().workload().label());
        return vm;
    }

    @Override
    public Vm restore(ProcessRestore restore) {
        QemuVm vm = new IncomingQemu(installation(), accel, saver, spares).restore(restore, postcopy, tracked(restore.onStopped()));
        running.add(vm);
        LOG.info("{} restored on qemu from {} ({}), resumed in {} ms", restore.id(), restore.snapshot().file(),
                restore.eager() ? "eager" : "lazy, policy " + restore.policy(), vm.info().resumeLatency().toMillis());
        return vm;
    }
}

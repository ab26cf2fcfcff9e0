package dev.thaw.qemu.impl;

import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.vm.VmManager;
import dev.thaw.format.qemu.impl.QemuMappedRamFormat;
import dev.thaw.machine.impl.InstalledFormats;
import dev.thaw.machine.impl.TestPlatform;
import dev.thaw.qemu.postcopy.impl.QemuPostcopyServer;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.QemuCondition;
import dev.thaw.testing.Runtimes;
import java.util.List;
import java.util.Map;

/**
 * The platform as OSGi wires it with the qemu runtime installed, made directly: the machine's VM manager (the
 * emulated runtime its default), the real formats, the real postcopy source with every shipped policy. Closing
 * it stops every VM and checks that no QEMU is left running. Public for the bench's tests, which run the qemu-file
 * bench on files this runtime wrote.
 */
public final class QemuPlatform implements AutoCloseable {

    private final TestPlatform platform;
    private final QemuRuntime runtime;
    private final QemuPostcopyServer postcopy;

    public QemuPlatform() {
        this(Map.of());
    }

    /** With {@code config} for the runtime ({@code binary}, {@code accel}), its defaults elsewhere. */
    QemuPlatform(Map<String, Object> config) {
        SnapshotFormats formats = InstalledFormats.of(new QemuMappedRamFormat());
        runtime = new QemuRuntime(formats, ConfigProxy.of(QemuRuntime.Config.class, config));
        platform = new TestPlatform(Runtimes.EMULATED, List.of(runtime));
        platform.addFormat(new QemuMappedRamFormat());
        postcopy = new QemuPostcopyServer(formats);
        platform.policies().forEach(postcopy::addPolicy);
        runtime.setPostcopy(postcopy);
    }

    public VmManager vms() {
        return platform.vms();
    }

    QemuRuntime runtime() {
        return runtime;
    }

    /** The postcopy source the runtime's lazy restores are served by. */
    QemuPostcopyServer postcopy() {
        return postcopy;
    }

    /** The QEMU processes of this JVM that still run. */
    public static List<String> qemusLeft() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                .filter(p -> p.contains(QemuCondition.QEMU)).toList();
    }

    /** Stops every VM, then deactivates the runtime as OSGi would (which ends its spare QEMUs). */
    @Override
    public void close() {
        try {
            platform.close();
        } finally {
            runtime.deactivate();
        }
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.snapshot.SnapshotFormat;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.vm.ProcessRuntime;
import dev.thaw.api.vm.VmManager;
import dev.thaw.devices.impl.DebugExitProvider;
import dev.thaw.devices.impl.Uart16550Provider;
import dev.thaw.emulated.impl.EmulatedRuntime;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotWriter;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.policy.hotpagefirst.impl.HotPageFirstPolicy;
import dev.thaw.policy.prefetchwindow.impl.PrefetchWindowPolicy;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.restore.impl.NonePolicy;
import dev.thaw.restore.impl.RestoreEngine;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.Runtimes;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The machine's collaborators as the platform wires them, made directly for tests outside OSGi: a real
 * vCPU runtime (the one a test runs on, configured as the default), real devices, the real Thaw snapshot
 * format, the real restore engine and every shipped policy, each with its Metatype defaults. Making one
 * for a runtime that cannot run here skips the test ({@link Runtimes#assumeUsable}).
 */
public final class TestPlatform implements AutoCloseable {

    private final AutoCloseable runtime;
    private final SnapshotFormatRegistry formats = new SnapshotFormatRegistry();
    private final GuestVmManager manager;

    public TestPlatform(String runtimeName) {
        this(runtimeName, List.of());
    }

    /** With {@code processRuntimes} installed too (the qemu runtime's tests), {@code runtimeName} the default. */
    public TestPlatform(String runtimeName, List<ProcessRuntime> processRuntimes) {
        Runtimes.assumeUsable(runtimeName);
        VcpuRuntime made = switch (runtimeName) {
            case Runtimes.KVM -> new KvmHypervisor();
            case Runtimes.EMULATED -> new EmulatedRuntime();
            default -> throw new IllegalArgumentException("no runtime " + runtimeName);
        };
        runtime = (AutoCloseable) made;
        formats.addFormat(new ThawSnapshotFormat());
        RuntimeChooser runtimes = new RuntimeChooser(ConfigProxy.of(RuntimeChooser.Config.class, Map.of("runtime", runtimeName)));
        runtimes.addRuntime(made, Map.of(VcpuRuntime.NAME_PROPERTY, runtimeName));
        processRuntimes.forEach(runtimes::addProcessRuntime);
        manager = new GuestVmManager(runtimes, new ThawSnapshotWriter(), formats, new RestoreEngine(),
                ConfigProxy.defaults(GuestVmManager.Config.class), Path.of("").toAbsolutePath());
        manager.addDeviceProvider(new Uart16550Provider(ConfigProxy.defaults(Uart16550Provider.Config.class)));
        manager.addDeviceProvider(new DebugExitProvider(ConfigProxy.defaults(DebugExitProvider.Config.class)));
        policies().forEach(manager::addPolicy);
    }

    GuestVmManager manager() {
        return manager;
    }

    SnapshotFormatRegistry formats() {
        return formats;
    }

    /** The VM manager, for tests outside this package. */
    public VmManager vms() {
        return manager;
    }

    /** The installed formats (Thaw's; more as {@link #addFormat} adds them). */
    public SnapshotFormats snapshotFormats() {
        return formats;
    }

    public void addFormat(SnapshotFormat format) {
        formats.addFormat(format);
    }

    /** A fresh instance of each page policy the platform installs (for another component that takes policies). */
    public List<PagePolicy> policies() {
        return List.of(new NonePolicy(), new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)),
                new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class)),
                new PrefetchWindowPolicy(ConfigProxy.defaults(PrefetchWindowPolicy.Config.class)));
    }

    @Override
    public void close() {
        manager.deactivate();
        try {
            runtime.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the runtime failed: " + e.getMessage(), e);
        }
    }
}

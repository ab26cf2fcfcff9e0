package dev.thaw.machine.impl;

import dev.thaw.api.runtime.VcpuRuntime;
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
import java.util.Map;

/**
 * The machine's collaborators as the platform wires them, made directly for tests outside OSGi: a real
 * vCPU runtime (the one a test runs on, configured as the default), real devices, the real Thaw snapshot
 * format, the real restore engine and every shipped policy, each with its Metatype defaults. Making one
 * for a runtime that cannot run here skips the test ({@link Runtimes#assumeUsable}).
 */
final class TestPlatform implements AutoCloseable {

    private final AutoCloseable runtime;
    private final SnapshotFormatRegistry formats = new SnapshotFormatRegistry();
    private final GuestVmManager manager;

    TestPlatform(String runtimeName) {
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
        manager = new GuestVmManager(runtimes, new ThawSnapshotWriter(), formats, new RestoreEngine(),
                ConfigProxy.defaults(GuestVmManager.Config.class), Path.of("").toAbsolutePath());
        manager.addDeviceProvider(new Uart16550Provider(ConfigProxy.defaults(Uart16550Provider.Config.class)));
        manager.addDeviceProvider(new DebugExitProvider(ConfigProxy.defaults(DebugExitProvider.Config.class)));
        manager.addPolicy(new NonePolicy());
        manager.addPolicy(new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class)));
        manager.addPolicy(new HotPageFirstPolicy(ConfigProxy.defaults(HotPageFirstPolicy.Config.class)));
        manager.addPolicy(new PrefetchWindowPolicy(ConfigProxy.defaults(PrefetchWindowPolicy.Config.class)));
    }

    GuestVmManager manager() {
        return manager;
    }

    SnapshotFormatRegistry formats() {
        return formats;
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

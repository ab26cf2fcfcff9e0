package dev.thaw.machine.impl;

import dev.thaw.devices.impl.DebugExitProvider;
import dev.thaw.devices.impl.Uart16550Provider;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotWriter;
import dev.thaw.kvm.impl.KvmHypervisor;
import dev.thaw.policy.hotpagefirst.impl.HotPageFirstPolicy;
import dev.thaw.policy.prefetchwindow.impl.PrefetchWindowPolicy;
import dev.thaw.policy.sequential.impl.SequentialPolicy;
import dev.thaw.restore.impl.NonePolicy;
import dev.thaw.restore.impl.RestoreEngine;
import dev.thaw.testing.ConfigProxy;

/**
 * The machine's collaborators as the platform wires them, made directly for tests outside OSGi: real
 * KVM, real devices, the real Thaw snapshot format, the real restore engine and every shipped policy,
 * each with its Metatype defaults.
 */
final class TestPlatform implements AutoCloseable {

    private final KvmHypervisor hypervisor = new KvmHypervisor();
    private final SnapshotFormatRegistry formats = new SnapshotFormatRegistry();
    private final GuestVmManager manager;

    TestPlatform() {
        formats.addFormat(new ThawSnapshotFormat());
        RuntimeChooser runtimes = new RuntimeChooser(ConfigProxy.defaults(RuntimeChooser.Config.class));
        runtimes.addRuntime(hypervisor, java.util.Map.of());
        manager = new GuestVmManager(runtimes, new ThawSnapshotWriter(), formats, new RestoreEngine(),
                ConfigProxy.defaults(GuestVmManager.Config.class));
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
        hypervisor.close();
    }
}

package dev.thaw.machine.impl;

import dev.thaw.devices.impl.DebugExitProvider;
import dev.thaw.devices.impl.Uart16550Provider;
import dev.thaw.format.thaw.impl.ThawSnapshotFormat;
import dev.thaw.format.thaw.impl.ThawSnapshotWriter;
import dev.thaw.kvm.impl.KvmHypervisor;
import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;

/**
 * The machine's collaborators as the platform wires them, made directly for tests outside OSGi: real
 * KVM, real devices, the real Thaw snapshot format.
 */
final class TestPlatform implements AutoCloseable {

    private final KvmHypervisor hypervisor = new KvmHypervisor();
    private final SnapshotFormatRegistry formats = new SnapshotFormatRegistry();
    private final GuestVmManager manager;

    TestPlatform() {
        formats.addFormat(new ThawSnapshotFormat());
        manager = new GuestVmManager(hypervisor, new ThawSnapshotWriter(), formats);
        manager.addDeviceProvider(new Uart16550Provider(config(Uart16550Provider.Config.class, 0x3f8, 4)));
        manager.addDeviceProvider(new DebugExitProvider(config(DebugExitProvider.Config.class, 0x501, 0)));
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

    /** A Metatype configuration with the given port and IRQ, as ConfigAdmin would supply by default. */
    @SuppressWarnings("unchecked")
    static <A extends Annotation> A config(Class<A> type, int port, int irq) {
        return (A) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) ->
                switch (method.getName()) {
                    case "port" -> port;
                    case "irq" -> irq;
                    case "annotationType" -> type;
                    default -> method.getDefaultValue();
                });
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.device.DeviceProvider;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import dev.thaw.kvm.Hypervisor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots VMs that run the test guest, with one instance of every installed device type each, and keeps
 * the list of this platform's VMs. Deactivation stops them all.
 */
@Component(service = VmManager.class)
public final class GuestVmManager implements VmManager {

    private static final Logger LOG = LoggerFactory.getLogger(GuestVmManager.class);

    private final Hypervisor hypervisor;
    private final GuestImage image = GuestImage.bundled();
    private final Map<String, GuestVm> vms = new LinkedHashMap<>();
    private final List<DeviceProvider> deviceProviders = new CopyOnWriteArrayList<>();
    private int nextNumber = 1;

    @Activate
    public GuestVmManager(@Reference Hypervisor hypervisor) {
        this.hypervisor = hypervisor;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addDeviceProvider(DeviceProvider provider) {
        deviceProviders.add(provider);
    }

    void removeDeviceProvider(DeviceProvider provider) {
        deviceProviders.remove(provider);
    }

    @Override
    public Vm boot(BootRequest request) {
        BootPlan plan;
        synchronized (vms) {
            String id = request.name() != null ? request.name() : nextFreeName();
            if (vms.containsKey(id)) {
                throw new IllegalArgumentException("a VM named '" + id + "' exists already");
            }
            plan = BootPlan.of(id, request, image);
            vms.put(id, null); // reserve the name while booting outside the lock
        }
        try {
            List<DeviceProvider> providers = new ArrayList<>(deviceProviders);
            providers.sort(Comparator.comparing(DeviceProvider::type)); // same bus order on every boot
            GuestVm vm = GuestVm.boot(plan, image, hypervisor, providers, this::forget);
            synchronized (vms) {
                vms.put(plan.id(), vm);
            }
            return vm;
        } catch (RuntimeException e) {
            synchronized (vms) {
                vms.remove(plan.id());
            }
            throw e;
        }
    }

    @Override
    public List<Vm> list() {
        synchronized (vms) {
            return vms.values().stream().filter(v -> v != null).map(Vm.class::cast).toList();
        }
    }

    @Override
    public Optional<Vm> find(String id) {
        synchronized (vms) {
            return Optional.ofNullable(vms.get(id));
        }
    }

    @Deactivate
    void deactivate() {
        List<Vm> running = list();
        for (Vm vm : running) {
            try {
                vm.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping {} failed", vm.id(), e);
            }
        }
    }

    private void forget(GuestVm vm) {
        synchronized (vms) {
            vms.remove(vm.id(), vm);
        }
    }

    private String nextFreeName() {
        while (vms.containsKey("vm" + nextNumber)) {
            nextNumber++;
        }
        return "vm" + nextNumber++;
    }
}

package dev.thaw.machine.impl;

import dev.thaw.api.device.DeviceProvider;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.restore.LazyRestorer;
import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotException;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.api.snapshot.SnapshotReader;
import dev.thaw.api.snapshot.SnapshotWriter;
import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.ProcessBoot;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.ProcessRestore;
import dev.thaw.api.vm.ProcessRuntime;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.RestoreSettings;
import dev.thaw.api.vm.RuntimeInfo;
import dev.thaw.api.runtime.VcpuRuntime;
import dev.thaw.api.vm.Vm;
import dev.thaw.api.vm.VmManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.osgi.framework.BundleContext;
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
 * Boots VMs that run the test guest, with one instance of every installed device type each, and keeps
 * the list of this platform's VMs. Deactivation stops them all.
 */
@Component(service = VmManager.class, configurationPid = RestoreDefaults.PID)
@Designate(ocd = GuestVmManager.Config.class)
public final class GuestVmManager implements VmManager {

    @ObjectClassDefinition(name = "Thaw restore", description = "What a restore uses where it does not say: "
            + "config/dev.thaw.restore.cfg; a change applies to the next restore")
    public @interface Config {
        @AttributeDefinition(name = "Default policy", description = "Page policy of a lazy restore that names none "
                + "(thaw:policies lists the installed ones)")
        String defaultPolicy() default RestoreOptions.DEFAULT_POLICY;

        @AttributeDefinition(name = "Fallback policy", description = "Used, with a warning, when the policy asked for "
                + "is not installed; empty: such a restore fails", required = false)
        String fallbackPolicy() default "";

        @AttributeDefinition(name = "Loader threads", description = "Background loader threads of a lazy restore that "
                + "names no number", min = "1", max = "64")
        int loaderThreads() default RestoreOptions.DEFAULT_LOADER_THREADS;

        @AttributeDefinition(name = "Profile folder", description = "Folder of the working-set profiles that "
                + "restores read and --record-profile writes (relative to the Thaw home); empty: each profile beside "
                + "its snapshot as <snapshot>.profile.json", required = false)
        String profileDirectory() default "";
    }

    private static final Logger LOG = LoggerFactory.getLogger(GuestVmManager.class);
    /**
     * The framework property naming the Thaw home: the folder {@code ./thaw} is in, which holds
     * {@code config/}, {@code deploy/} and {@code var/}. The launcher sets it; relative folders in the
     * configuration are relative to it.
     */
    static final String HOME_PROPERTY = "thaw.home";
    /** The most VMs one fleet restores: each is a VM of its own, with its threads and memory. */
    static final int MAX_FLEET = 256;

    private final RuntimeChooser runtimes;
    private final SnapshotWriter writer;
    private final SnapshotFormats formats;
    private final LazyRestorer lazyRestorer;
    private final InstalledPolicies policies = new InstalledPolicies();
    private final MachineStateCodec codec = new MachineStateCodec();
    private final GuestImage image = GuestImage.bundled();
    private final VmRegistry vms = new VmRegistry();
    private final List<DeviceProvider> deviceProviders = new CopyOnWriteArrayList<>();
    private final Fleets fleets = new Fleets();
    private Thread warmup;
    private final RestoreDefaults defaults;

    @Activate
    public GuestVmManager(@Reference RuntimeChooser runtimes, @Reference SnapshotWriter writer, @Reference SnapshotFormats formats,
            @Reference LazyRestorer lazyRestorer, Config config, BundleContext context) {
        this(runtimes, writer, formats, lazyRestorer, config, home(context));
    }

    /** As the platform makes it, with {@code home} as the Thaw home (for tests outside OSGi). */
    GuestVmManager(RuntimeChooser runtimes, SnapshotWriter writer, SnapshotFormats formats, LazyRestorer lazyRestorer,
            Config config, Path home) {
        this.runtimes = runtimes;
        this.defaults = new RestoreDefaults(home);
        defaults.apply(config);
        this.writer = writer;
        this.formats = formats;
        this.lazyRestorer = lazyRestorer;
    }

    /**
     * The Thaw home ({@value #HOME_PROPERTY}), absolute; the process's working folder only where no
     * launcher set it.
     */
    static Path home(BundleContext context) {
        String home = context.getProperty(HOME_PROPERTY);
        if (home == null || home.isBlank()) {
            Path cwd = Path.of("").toAbsolutePath();
            LOG.warn("no framework property {}: relative folders in the configuration are taken as relative to {}", HOME_PROPERTY, cwd);
            return cwd;
        }
        return Path.of(home).toAbsolutePath().normalize();
    }

    /** A changed configuration applies to the next restore; VMs keep running. */
    @Modified
    void modified(Config config) {
        defaults.apply(config);
    }

    @Override
    public RestoreSettings restoreSettings() {
        return defaults.get();
    }

    @Override
    public Path profileFile(Path snapshot) {
        return defaults.profileFile(snapshot);
    }

    /** After the constructor: warms up the restore path in the background (see {@link Warmup}). */
    @Activate
    void activate() {
        Optional<PagePolicy> any = policies.any();
        warmup = Thread.ofPlatform().daemon().name("thaw-machine-warmup").start(() -> {
            VcpuRuntime runtime;
            try {
                runtime = runtimes.choose(null);
            } catch (RuntimeException e) {
                LOG.info("restore path not warmed up: {}", e.getMessage());
                return;
            }
            Warmup.run(parts(runtime), formats, lazyRestorer, any);
        });
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addPolicy(PagePolicy policy) {
        policies.add(policy);
    }

    void removePolicy(PagePolicy policy) {
        policies.remove(policy);
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
        return boot(request, null);
    }

    @Override
    public Vm boot(BootRequest request, String runtime) {
        long requested = System.nanoTime();
        Optional<ProcessRuntime> process = runtimes.processRuntime(runtime);
        if (process.isPresent()) {
            VmRegistry.Reservation id = vms.reserve(request.name());
            BootPlan plan = plan(id, request);
            return register(id, () -> process.get().boot(new ProcessBoot(plan.id(), request, image.bytes(),
                    plan.bootParameters(), MemoryLayout.LOW_RAM_LIMIT, requested, this::forget)));
        }
        VcpuRuntime chosen = runtimes.choose(runtime);
        VmRegistry.Reservation id = vms.reserve(request.name());
        BootPlan plan = plan(id, request);
        return register(id, () -> GuestVm.boot(plan, parts(chosen), this::forget, requested));
    }

    @Override
    public List<RuntimeInfo> runtimes() {
        return runtimes.list();
    }

    @Override
    public Vm restore(RestoreOptions options, Progress progress) {
        return restore(options, progress, System.nanoTime()); // resume latency counts from here, file checks included
    }

    private Vm restore(RestoreOptions options, Progress progress, long requested) {
        String name = options.name();
        if (name != null && vms.taken(name)) {
            throw new IllegalArgumentException("a VM named '" + name + "' exists already"); // not the file's fault
        }
        RestoreSettings settings = defaults.get();
        PagePolicy policy = policyOf(options, settings);
        int loaderThreads = loaderThreads(options, settings);
        SnapshotReader reader = formats.open(options.file(), options.offset());
        return restore(options, reader, policy, loaderThreads, progress, requested, () -> vms.reserve(name));
    }

    /**
     * Restores a VM from {@code reader}'s snapshot, which it owns from then on; {@code reserveName} gives the VM's
     * id, reserved when the restore gets that far (or by its fleet already).
     */
    private Vm restore(RestoreOptions options, SnapshotReader reader, PagePolicy policy, int loaderThreads, Progress progress,
            long requested, Supplier<VmRegistry.Reservation> reserveName) {
        if (reader.state().isEmpty()) {
            return restoreInProcess(options, reader, policy, loaderThreads, requested, reserveName);
        }
        return restoreThawSnapshot(options, reader, policy, loaderThreads, null, progress, requested, reserveName);
    }

    private static int loaderThreads(RestoreOptions options, RestoreSettings settings) {
        return options.loaderThreads() > 0 ? options.loaderThreads() : settings.loaderThreads();
    }

    /** The policy of a lazy restore with {@code options} (null for an eager one). */
    private PagePolicy policyOf(RestoreOptions options, RestoreSettings settings) {
        return options.eager() ? null
                : policies.choose(options.policy() != null ? options.policy() : settings.defaultPolicy(), settings.fallbackPolicy());
    }

    @Override
    public List<Vm> restoreFleet(RestoreOptions options, int count, boolean share, Progress progress) {
        long requested = System.nanoTime();
        checkFleet(options, count, share);
        RestoreSettings settings = defaults.get();
        PagePolicy policy = policyOf(options, settings);
        int loaderThreads = loaderThreads(options, settings);
        Fleets.Reservation fleet = fleets.reserve(options.name(), count, vms);
        List<Vm> made = new ArrayList<>();
        try {
            if (share) {
                restoreShared(options, fleet, policy, loaderThreads, made, progress, requested);
            } else {
                restoreEach(options, fleet, policy, loaderThreads, made, progress, requested);
            }
            return List.copyOf(made);
        } catch (RuntimeException e) {
            for (Vm vm : made) {
                vm.stop();
            }
            fleets.abandon(fleet); // the names of those never made; the fleet lets go of its cache and reader
            throw e;
        }
    }

    /** Refuses, before anything is reserved or opened, a fleet its options rule out. */
    private void checkFleet(RestoreOptions options, int count, boolean share) {
        if (count < 1 || count > MAX_FLEET) {
            throw new IllegalArgumentException("a fleet has 1 to " + MAX_FLEET + " VMs, not " + count);
        }
        if (share && options.eager()) {
            throw new IllegalArgumentException("an eager restore loads each VM's memory before it runs; --share shares the "
                    + "pages of lazy restores");
        }
        if (share && options.recordProfile()) {
            throw new IllegalArgumentException("a shared fleet loads its pages once for all its VMs, so it records no "
                    + "working-set profile; record one with a single restore");
        }
        if (options.recordProfile()) {
            throw new IllegalArgumentException("the VMs of a fleet would each record the snapshot's working-set profile over "
                    + "the others'; record one with a single restore");
        }
        if (share && options.preloadWorkingSet()) {
            throw new IllegalArgumentException("a shared fleet maps a Thaw snapshot's pages into VMs whose vCPUs start at once; "
                    + "preloading the working set before the guest runs is for QEMU files on the qemu runtime");
        }
        if (share) {
            runtimes.choose(options.runtime()); // a shared fleet's VMs run on a vCPU runtime: refuse one that cannot
        }
    }

    /** The members of a fleet that shares nothing, each reading the snapshot on its own. */
    private void restoreEach(RestoreOptions options, Fleets.Reservation fleet, PagePolicy policy, int loaderThreads,
            List<Vm> made, Progress progress, long requested) {
        for (VmRegistry.Reservation member : fleet.members()) {
            SnapshotReader reader = formats.open(options.file(), options.offset());
            if (made.isEmpty()) {
                fleets.add(fleet, options.file(), null, null, storedBytes(reader)); // from the first member's reader
            }
            // each VM's resume counts from the command
            made.add(restore(options.named(member.id()), reader, policy, loaderThreads, progress, requested, () -> member));
        }
    }

    /** The members of a fleet sharing one reader of the snapshot and one page cache over it. */
    private void restoreShared(RestoreOptions options, Fleets.Reservation fleet, PagePolicy policy, int loaderThreads,
            List<Vm> made, Progress progress, long requested) {
        SnapshotReader reader = formats.open(options.file(), options.offset());
        SharedPageCache cache;
        try {
            if (reader.state().isEmpty()) {
                throw new IllegalArgumentException("a shared fleet maps a Thaw snapshot's pages into each VM; " + options.file()
                        + " is a " + reader.format() + " snapshot, whose VMs run in processes of their own");
            }
            cache = lazyRestorer.openSharedCache(reader);
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
        fleets.add(fleet, options.file(), cache, reader, storedBytes(reader));
        for (VmRegistry.Reservation member : fleet.members()) {
            made.add(restoreThawSnapshot(options.named(member.id()), reader, policy, loaderThreads, cache, progress, requested,
                    () -> member));
        }
    }

    private static long storedBytes(SnapshotReader reader) {
        return reader.regions().stream().mapToLong(r -> r.presentPages() * r.pageSize()).sum();
    }

    @Override
    public List<FleetInfo> fleets() {
        return fleets.list(ids -> GuestMemoryAccounting.ofVms(ids, this::find));
    }

    /**
     * Restores a VM from a Thaw snapshot. The reader is the VM's (closed once it has read every page) unless
     * {@code cache} is given: then the VM is a member of a shared fleet, which holds reader and cache.
     */
    private Vm restoreThawSnapshot(RestoreOptions options, SnapshotReader reader, PagePolicy policy, int loaderThreads,
            SharedPageCache cache, Progress progress, long requested, Supplier<VmRegistry.Reservation> reserveName) {
        Path file = options.file();
        boolean handedOver = cache != null;
        try {
            if (options.preloadWorkingSet()) {
                throw new IllegalArgumentException("preloading the working set before the guest runs is for QEMU files on the "
                        + "qemu runtime; " + file + " is a Thaw snapshot, whose restores start the vCPUs at once");
            }
            VcpuRuntime runtime = runtimes.choose(options.runtime());
            MachineState state = reader.state().orElseThrow();
            VmRegistry.Reservation id = reserveName.get(); // a name taken meanwhile is refused with the usual one line
            BootPlan plan;
            try {
                plan = plan(id, state.boot());
            } catch (IllegalArgumentException e) {
                throw new SnapshotException(file, "its machine cannot be restored here: " + e.getMessage());
            }
            try {
                plan.checkFits(file, state, reader);
            } catch (SnapshotException e) {
                id.release();
                throw e;
            }
            MemoryLoader loader = options.eager() ? MemoryLoader.eager(reader, progress)
                    : cache != null ? MemoryLoader.shared(lazyRestorer, cache, reader, policy, loaderThreads, profileFile(file))
                    : MemoryLoader.lazy(lazyRestorer, reader, policy, loaderThreads, options.recordProfile(), profileFile(file));
            Vm vm = register(id, () -> {
                try {
                    return GuestVm.restore(plan, parts(runtime), state, loader, this::forget, requested);
                } catch (IllegalArgumentException e) {
                    throw new SnapshotException(file, "its state cannot be restored: " + oneLine(e.getMessage()));
                }
            });
            handedOver = !options.eager(); // a lazy restore reads the file until every page is in (a fleet's holds it)
            return vm;
        } finally {
            if (!handedOver) {
                reader.close();
            }
        }
    }

    /**
     * A snapshot without Thaw machine state (QEMU's, say) goes to the process runtime that restores its format,
     * which owns the reader from then on.
     */
    private Vm restoreInProcess(RestoreOptions options, SnapshotReader reader, PagePolicy policy, int loaderThreads, long requested,
            Supplier<VmRegistry.Reservation> reserveName) {
        VmRegistry.Reservation id;
        ProcessRuntime runtime;
        try {
            runtime = runtimes.restoring(reader.format()).orElseThrow(() -> new SnapshotException(reader.file(), "is a "
                    + reader.format() + " snapshot without Thaw machine state, and no installed runtime restores that format;"
                    + " it can be inspected, not restored as a VM"));
            if (options.runtime() != null && !options.runtime().equals(runtime.name())) {
                throw new IllegalArgumentException("a " + reader.format() + " snapshot is restored by the " + runtime.name()
                        + " runtime, not " + options.runtime());
            }
            runtimes.processRuntime(runtime.name()); // refuses one that cannot run here, naming why
            id = reserveName.get();
        } catch (RuntimeException e) {
            reader.close();
            throw e;
        }
        return register(id, () -> runtime.restore(new ProcessRestore(id.id(), reader, options.offset(), options.eager(),
                policy == null ? null : policy.name(), loaderThreads, profileFile(reader.file()), options.recordProfile(),
                options.preloadWorkingSet(), image.bytes(), requested, this::forget)));
    }

    private GuestVm.Parts parts(VcpuRuntime runtime) {
        List<DeviceProvider> providers = new ArrayList<>(deviceProviders);
        providers.sort(Comparator.comparing(DeviceProvider::type)); // the same bus order on every VM
        return new GuestVm.Parts(runtime, providers, writer, codec, image);
    }

    /** Checks the request of the VM to be made under {@code id}; a request refused frees the id. */
    private BootPlan plan(VmRegistry.Reservation id, BootRequest request) {
        try {
            return BootPlan.of(id.id(), request, image);
        } catch (RuntimeException e) {
            id.release();
            throw e;
        }
    }

    /** Makes the VM reserved as {@code id} outside any lock, and lists it; a VM not made frees the id. */
    private Vm register(VmRegistry.Reservation id, Supplier<? extends Vm> make) {
        try {
            Vm vm = make.get();
            id.register(vm);
            return vm;
        } catch (RuntimeException e) {
            id.release();
            throw e;
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").strip();
    }

    @Override
    public List<Vm> list() {
        return vms.list();
    }

    @Override
    public Optional<Vm> find(String id) {
        return vms.find(id);
    }

    @Deactivate
    void deactivate() {
        if (warmup != null) {
            try {
                warmup.join(); // its VMs are not in the list; it ends within its guest timeouts
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Vm> running = list();
        for (Vm vm : running) {
            try {
                vm.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping {} failed", vm.id(), e);
            }
        }
    }

    private void forget(Vm vm) {
        vms.forget(vm);
        fleets.memberGone(vm.id());
    }
}

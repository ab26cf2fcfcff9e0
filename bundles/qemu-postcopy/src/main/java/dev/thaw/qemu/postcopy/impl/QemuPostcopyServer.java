package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.migration.PostcopyServe;
import dev.thaw.api.migration.PostcopyServer;
import dev.thaw.api.migration.ServeRequest;
import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.snapshot.SnapshotFormats;
import dev.thaw.support.profile.ProfileCache;
import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
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
 * Serves QEMU mapped-ram files to incoming QEMUs that others started, with the installed page policies, and
 * keeps every serve by id for its figures. Deactivation stops those still running.
 */
@Component(service = PostcopyServer.class)
public final class QemuPostcopyServer implements PostcopyServer {

    private static final Logger LOG = LoggerFactory.getLogger(QemuPostcopyServer.class);

    private final SnapshotFormats formats;
    /** The working-set profiles serves read so far. */
    private final ProfileCache profiles = new ProfileCache();
    private final List<PagePolicy> policies = new CopyOnWriteArrayList<>();
    private final Map<String, ServedFile> serves = new LinkedHashMap<>(); // guarded by itself
    private int nextNumber = 1; // guarded by serves

    @Activate
    public QemuPostcopyServer(@Reference SnapshotFormats formats) {
        this.formats = formats;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addPolicy(PagePolicy policy) {
        policies.add(policy);
    }

    void removePolicy(PagePolicy policy) {
        policies.remove(policy);
    }

    @Override
    public PostcopyServe serve(ServeRequest request) {
        Destination destination = Destination.parse(request.destination()); // refused before the file is opened
        PagePolicy policy = policy(request.policy());
        return serve(request, destination, policy, formats.open(request.file(), request.offset()));
    }

    @Override
    public PostcopyServe serve(ServeRequest request, SnapshotReader snapshot) {
        Destination destination;
        PagePolicy policy;
        try {
            destination = Destination.parse(request.destination());
            policy = policy(request.policy());
        } catch (RuntimeException e) {
            snapshot.close();
            throw e;
        }
        return serve(request, destination, policy, snapshot);
    }

    /** Serves {@code reader}, which it owns from the call on. */
    private PostcopyServe serve(ServeRequest request, Destination destination, PagePolicy policy, SnapshotReader reader) {
        try {
            MigrationFile file = MigrationFile.of(reader); // a foreign or damaged file is refused before connecting
            SocketChannel channel = destination.connect(reader.file());
            ServeProfile profile = new ServeProfile(reader.file(), file.pages(), request.profile(), request.recordProfileTo(),
                    profiles);
            PostcopySource source = PostcopySource.start(file, channel, destination.text(), policy, request.parameters(),
                    profile, SourceOptions.of(request));
            synchronized (serves) {
                ServedFile served = new ServedFile("serve" + nextNumber++, destination.text(), reader, source);
                serves.put(served.id(), served);
                LOG.info("{}: serving {} to {} with policy {}{}{}{}", served.id(), reader.file(), destination.text(), policy.name(),
                        request.recordProfileTo() == null ? "" : ", recording a profile into " + request.recordProfileTo(),
                        request.preloadProfile() ? ", the profile's pages before the device state" : "",
                        request.holdBackground() ? ", the rest once asked to load it" : "");
                return served;
            }
        } catch (RuntimeException | Error e) {
            reader.close();
            throw e;
        }
    }

    @Override
    public Optional<PostcopyServe> find(String id) {
        synchronized (serves) {
            return Optional.ofNullable(serves.get(id));
        }
    }

    @Override
    public List<PostcopyServe> serves() {
        synchronized (serves) {
            return List.copyOf(serves.values());
        }
    }

    @Deactivate
    void deactivate() {
        List<ServedFile> all;
        synchronized (serves) {
            all = new ArrayList<>(serves.values());
        }
        all.forEach(ServedFile::close);
    }

    private PagePolicy policy(String name) {
        return policies.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no page policy named '" + name + "' is installed (installed: " + String.join(", ",
                        policies.stream().map(PagePolicy::name).sorted().toList()) + ")"));
    }
}

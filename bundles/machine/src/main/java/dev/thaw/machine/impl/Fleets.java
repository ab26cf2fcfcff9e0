package dev.thaw.machine.impl;

import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.GuestMemoryUse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleets of a platform: which VMs were restored together from one snapshot, and what a shared fleet holds
 * for its members (its page cache, and the snapshot reader the cache reads). A fleet is forgotten, and what it
 * holds released, when its last member is.
 */
final class Fleets {

    private static final Logger LOG = LoggerFactory.getLogger(Fleets.class);

    /** One fleet. {@code held} (the reader of a shared fleet) is closed after its last member ends. */
    private record Fleet(String name, Path file, SharedPageCache cache, AutoCloseable held, long snapshotBytes,
            Set<String> members) {}

    private final Map<String, Fleet> fleets = new LinkedHashMap<>();

    /** Whether {@code name} is a fleet's. */
    synchronized boolean exists(String name) {
        return fleets.containsKey(name);
    }

    /**
     * Records a fleet of {@code members}. {@code cache} (null for a fleet that shares nothing) and {@code held} are
     * released when the last member is forgotten.
     */
    synchronized void add(String name, Path file, SharedPageCache cache, AutoCloseable held, long snapshotBytes,
            List<String> members) {
        fleets.put(name, new Fleet(name, file, cache, held, snapshotBytes, new LinkedHashSet<>(members)));
    }

    /** {@code id} has ended: a fleet left without members lets go of what it holds. */
    void memberGone(String id) {
        Fleet emptied = null;
        synchronized (this) {
            for (Fleet f : fleets.values()) {
                if (f.members().remove(id) && f.members().isEmpty()) {
                    emptied = f;
                    break;
                }
            }
            if (emptied != null) {
                fleets.remove(emptied.name());
            }
        }
        if (emptied != null) {
            release(emptied);
        }
    }

    private static void release(Fleet f) {
        if (f.cache() != null) {
            f.cache().close();
        }
        if (f.held() != null) {
            try {
                f.held().close();
            } catch (Exception e) {
                LOG.warn("fleet {}: releasing {} failed", f.name(), f.file(), e);
            }
        }
    }

    /** The fleets now, with their members' memory from {@code memory} (asked once, for every member of every fleet). */
    List<FleetInfo> list(Function<Collection<String>, Map<String, GuestMemoryUse>> memory) {
        List<Fleet> now;
        synchronized (this) {
            now = fleets.values().stream().map(f -> new Fleet(f.name(), f.file(), f.cache(), f.held(), f.snapshotBytes(),
                    new LinkedHashSet<>(f.members()))).toList();
        }
        Map<String, GuestMemoryUse> uses = memory.apply(now.stream().flatMap(f -> f.members().stream()).toList());
        List<FleetInfo> infos = new ArrayList<>();
        for (Fleet f : now) {
            long cacheBytes = f.cache() == null ? 0 : f.cache().residentBytes();
            long own = 0;
            for (String id : f.members()) {
                GuestMemoryUse use = uses.get(id);
                if (use != null) {
                    own += f.cache() == null ? use.residentBytes() : use.ownedBytes();
                }
            }
            infos.add(new FleetInfo(f.name(), f.file(), f.cache() != null, List.copyOf(f.members()), f.snapshotBytes(),
                    cacheBytes, cacheBytes + own, f.cache() == null ? Optional.empty() : f.cache().problem()));
        }
        return infos;
    }
}

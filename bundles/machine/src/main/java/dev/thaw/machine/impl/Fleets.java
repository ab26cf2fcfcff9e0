package dev.thaw.machine.impl;

import dev.thaw.api.restore.SharedPageCache;
import dev.thaw.api.vm.FleetInfo;
import dev.thaw.api.vm.GuestMemoryUse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleets of a platform: which VMs were restored together from one snapshot, and what a shared fleet holds
 * for its members (its page cache, and the snapshot reader the cache reads). A fleet's name and its members' are
 * reserved together before anything is opened; the fleet is forgotten, and what it holds released, when its last
 * member is.
 */
final class Fleets {

    private static final Logger LOG = LoggerFactory.getLogger(Fleets.class);

    /** One fleet. {@code held} (the reader of a shared fleet) is closed after its last member ends. */
    private record Fleet(String name, Path file, SharedPageCache cache, AutoCloseable held, long snapshotBytes,
            Set<String> members) {}

    /** A fleet's name and its members' ids, held from the request until the fleet is added or abandoned. */
    record Reservation(String name, List<VmRegistry.Reservation> members) {}

    private final Map<String, Fleet> fleets = new LinkedHashMap<>();
    /** The names of fleets being restored, not yet added. */
    private final Set<String> reserved = new HashSet<>();
    private int nextNumber = 1;

    /**
     * Reserves a fleet's name ({@code name}, or the next free {@code fleetN} where it is null) and its {@code count}
     * members' ids ({@code NAME-1} to {@code NAME-N}) in {@code vms}, all under this registry's lock: of two requests
     * for one name, or a fleet's and a VM's, one is refused with the usual one line. The VM registry's lock is taken
     * inside this one, never the other way round.
     */
    synchronized Reservation reserve(String name, int count, VmRegistry vms) {
        Reservation r = name != null ? reserveNamed(name, count, vms) : reserveNext(count, vms);
        reserved.add(r.name());
        return r;
    }

    private Reservation reserveNamed(String name, int count, VmRegistry vms) {
        if (fleets.containsKey(name) || reserved.contains(name)) {
            throw new IllegalArgumentException("a fleet named '" + name + "' exists already");
        }
        return new Reservation(name, vms.reserveAll(memberIds(name, count)));
    }

    /**
     * The first {@code fleetN} from {@code nextNumber} on that is no fleet's and whose members' ids are no VM's: the user
     * asked for no name, so one a VM already holds as a member's id (a VM restored alone as {@code fleet1-1}, say) is
     * passed over rather than refused.
     */
    private Reservation reserveNext(int count, VmRegistry vms) {
        while (true) {
            String candidate = "fleet" + nextNumber++;
            if (fleets.containsKey(candidate) || reserved.contains(candidate)) {
                continue;
            }
            Optional<List<VmRegistry.Reservation>> members = vms.reserveAllIfFree(memberIds(candidate, count));
            if (members.isPresent()) {
                return new Reservation(candidate, members.get());
            }
        }
    }

    private static List<String> memberIds(String fleet, int count) {
        return IntStream.rangeClosed(1, count).mapToObj(i -> fleet + "-" + i).toList();
    }

    /**
     * Records the fleet {@code r} reserved. {@code cache} (null for a fleet that shares nothing) and {@code held} are
     * released when the last member is forgotten.
     */
    synchronized void add(Reservation r, Path file, SharedPageCache cache, AutoCloseable held, long snapshotBytes) {
        reserved.remove(r.name());
        fleets.put(r.name(), new Fleet(r.name(), file, cache, held, snapshotBytes,
                new LinkedHashSet<>(r.members().stream().map(VmRegistry.Reservation::id).toList())));
    }

    /**
     * The fleet's restore failed and the members it made are stopped: frees the ids of those never made, lets go of
     * what the fleet holds, and frees its name.
     */
    void abandon(Reservation r) {
        for (VmRegistry.Reservation member : r.members()) {
            memberGone(member.id());
            member.release();
        }
        synchronized (this) {
            reserved.remove(r.name());
        }
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

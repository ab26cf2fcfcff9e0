package dev.thaw.machine.impl;

import dev.thaw.api.vm.Vm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VMs of a platform by id, and the ids held for VMs being made. A VM is made outside any lock, so its id is
 * reserved first: two requests never make two VMs of one name. Only the holder of a reservation releases it, so a
 * failed request never frees an id that another has taken since.
 */
final class VmRegistry {

    /** An id held for a VM being made; the VM's entry once it is registered. */
    final class Reservation {

        private final String id;
        /** Null until the VM is registered; guarded by the registry. */
        private Vm vm;

        private Reservation(String id) {
            this.id = id;
        }

        String id() {
            return id;
        }

        /** The VM is made: it is listed under the id from now on. */
        void register(Vm made) {
            synchronized (VmRegistry.this) {
                vm = made;
            }
        }

        /** No VM will be made under the id: frees it, unless a VM is registered under it. Idempotent. */
        void release() {
            synchronized (VmRegistry.this) {
                if (vm == null) {
                    byId.remove(id, this);
                }
            }
        }
    }

    private final Map<String, Reservation> byId = new LinkedHashMap<>();
    private int nextNumber = 1;

    /** Reserves {@code name}, or the next free {@code vmN} where it is null. */
    synchronized Reservation reserve(String name) {
        String id = name != null ? name : nextFreeName();
        if (byId.containsKey(id)) {
            throw exists(id);
        }
        return add(id);
    }

    /** Reserves every one of {@code ids}, or none of them: the first one taken is named in the refusal. */
    synchronized List<Reservation> reserveAll(List<String> ids) {
        for (String id : ids) {
            if (byId.containsKey(id)) {
                throw exists(id);
            }
        }
        return reserveAllIfFree(ids).orElseThrow();
    }

    /** Reserves every one of {@code ids} if none is taken; empty, holding none of them, if one is. */
    synchronized Optional<List<Reservation>> reserveAllIfFree(List<String> ids) {
        if (ids.stream().anyMatch(byId::containsKey)) {
            return Optional.empty();
        }
        List<Reservation> held = new ArrayList<>();
        for (String id : ids) {
            held.add(add(id));
        }
        return Optional.of(held);
    }

    private Reservation add(String id) {
        Reservation r = new Reservation(id);
        byId.put(id, r);
        return r;
    }

    private static IllegalArgumentException exists(String id) {
        return new IllegalArgumentException("a VM named '" + id + "' exists already");
    }

    /** Whether {@code id} is a VM's, or held for one being made. */
    synchronized boolean taken(String id) {
        return byId.containsKey(id);
    }

    synchronized List<Vm> list() {
        return byId.values().stream().map(r -> r.vm).filter(v -> v != null).toList();
    }

    synchronized Optional<Vm> find(String id) {
        Reservation r = byId.get(id);
        return r == null ? Optional.empty() : Optional.ofNullable(r.vm);
    }

    /** {@code vm} has ended: its id is free again. */
    synchronized void forget(Vm vm) {
        Reservation r = byId.get(vm.id());
        if (r != null && r.vm == vm) {
            byId.remove(vm.id());
        }
    }

    private String nextFreeName() {
        while (byId.containsKey("vm" + nextNumber)) {
            nextNumber++;
        }
        return "vm" + nextNumber++;
    }
}

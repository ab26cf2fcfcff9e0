package dev.thaw.api.runtime;

import java.util.List;
import java.util.Objects;

/**
 * What a VM is made of.
 *
 * @param name names the VM in logs and its vCPU threads ({@code vcpu-<name>-<i>}); 1 to 40 letters,
 *     digits, {@code .}, {@code _} or {@code -}
 * @param memory the guest physical ranges of RAM, in order; page aligned, not overlapping
 */
public record VmSpec(String name, List<MemoryRange> memory) {

    public VmSpec {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,40}")) {
            throw new IllegalArgumentException("VM name '" + name + "': use 1-40 letters, digits, '.', '_' or '-'");
        }
        memory = List.copyOf(Objects.requireNonNull(memory, "memory"));
    }
}

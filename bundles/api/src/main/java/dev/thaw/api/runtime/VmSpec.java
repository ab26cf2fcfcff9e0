package dev.thaw.api.runtime;

import java.util.List;
import java.util.Objects;

/**
 * What a VM is made of.
 *
 * @param name names the VM in logs and its vCPU threads ({@code vcpu-<name>-<i>}); 1 to 40 letters,
 *     digits, {@code .}, {@code _} or {@code -}
 * @param memory the guest physical ranges of RAM, in order; page aligned, not overlapping
 * @param hugePages whether the runtime advises the memory transparent huge pages: true for memory that will
 *     never be registered with userfaultfd (a boot, an eager restore), whose first touches then cost one fault
 *     per 2 MiB instead of per 4 KiB; false for a lazy restore, whose engine decides (it advises the memory
 *     itself where it moves whole huge pages in)
 */
public record VmSpec(String name, List<MemoryRange> memory, boolean hugePages) {

    public VmSpec {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,40}")) {
            throw new IllegalArgumentException("VM name '" + name + "': use 1-40 letters, digits, '.', '_' or '-'");
        }
        memory = List.copyOf(Objects.requireNonNull(memory, "memory"));
    }

    /** A VM whose memory the runtime does not advise huge pages: a lazy restore's, whose engine decides. */
    public VmSpec(String name, List<MemoryRange> memory) {
        this(name, memory, false);
    }
}

package dev.thaw.api.runtime;

import java.util.List;
import java.util.Objects;

/**
 * What a VM is made of.
 *
 * @param name names the VM in logs and its vCPU threads ({@code vcpu-<name>-<i>}); 1 to 40 letters,
 *     digits, {@code .}, {@code _} or {@code -}
 * @param memory the guest physical ranges of RAM, in order; page aligned, not overlapping
 * @param hugePages whether the runtime may back the memory with transparent huge pages: true only for memory
 *     that will never be registered with userfaultfd (a boot, an eager restore), whose first touches then
 *     cost one fault per 2 MiB instead of per 4 KiB; false for a lazy restore, whose UFFDIO_COPY installs
 *     4 KiB pages
 */
public record VmSpec(String name, List<MemoryRange> memory, boolean hugePages) {

    public VmSpec {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,40}")) {
            throw new IllegalArgumentException("VM name '" + name + "': use 1-40 letters, digits, '.', '_' or '-'");
        }
        memory = List.copyOf(Objects.requireNonNull(memory, "memory"));
    }

    /** A VM whose memory stays in 4 KiB pages, as userfaultfd needs. */
    public VmSpec(String name, List<MemoryRange> memory) {
        this(name, memory, false);
    }
}

package dev.thaw.api.runtime;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A way to run VMs: KVM, an interpreter, ... Registered as a service with {@link #NAME_PROPERTY} set to
 * {@link #name()}. A runtime registers even where it cannot run (no {@code /dev/kvm}, say) and then says
 * why in {@link #unavailableReason()}, so users can be told.
 */
@ProviderType
public interface VcpuRuntime {

    /** The service property naming a runtime. */
    String NAME_PROPERTY = "thaw.runtime";

    /** The runtime's name: letters, digits and {@code -} ({@code kvm}, {@code emulated}). */
    String name();

    /** One line on what it is, for listings. */
    String description();

    /** Empty when this runtime can create VMs on this host; else one line saying why not. */
    Optional<String> unavailableReason();

    /**
     * Creates a VM with {@code spec}'s memory mapped (anonymous, MAP_NORESERVE: nothing is committed until
     * touched) and added in order, advised {@code MADV_HUGEPAGE} where {@link VmSpec#hugePages()} allows it.
     * Nothing is left behind when it fails.
     *
     * @throws VcpuRuntimeException when the runtime refuses or is unavailable (the message says why)
     */
    VirtualMachine createVm(VmSpec spec);

    /**
     * A hint that a VM of this spec's memory layout will likely be created soon (a restore of a snapshot
     * just written, say). A runtime may prepare one ahead; the default does nothing.
     */
    default void expect(VmSpec spec) {}
}

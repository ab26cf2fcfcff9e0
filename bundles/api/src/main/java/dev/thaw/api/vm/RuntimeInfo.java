package dev.thaw.api.vm;

/**
 * A vCPU runtime as users see it.
 *
 * @param name e.g. {@code kvm}, {@code emulated}
 * @param description one line on what it is
 * @param available whether it can run VMs on this host
 * @param unavailableReason why not, when it cannot; else empty
 * @param isDefault whether VMs run on it when a command names no runtime
 * @param whyDefault for the default, why it is (configured, or chosen by {@code auto}); else empty
 */
public record RuntimeInfo(String name, String description, boolean available, String unavailableReason, boolean isDefault,
        String whyDefault) {}

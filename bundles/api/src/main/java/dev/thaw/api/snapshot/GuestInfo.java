package dev.thaw.api.snapshot;

/**
 * What runs in the VM.
 *
 * @param name e.g. {@code thaw-test-guest}
 * @param imageSha256 digest of the guest image the VM booted, hex
 */
public record GuestInfo(String name, String imageSha256) {}

package dev.thaw.api.vm;

import java.util.function.Consumer;

/**
 * The test guest to boot on a {@link ProcessRuntime}, laid out by the VM manager as for every runtime.
 *
 * @param id the VM's id
 * @param request what the guest runs, on how much memory and how many vCPUs
 * @param image the guest's image (a multiboot kernel)
 * @param bootParameters the guest's boot parameters page for {@code request}, handed to it as its first module
 * @param lowMemoryLimit guest RAM beyond this many bytes lies from 4 GiB up, as the boot parameters say
 * @param requestedNanos when the command came ({@link System#nanoTime()}): uptime and first output count from here
 * @param onStopped told once the VM is stopped and everything it held is freed
 */
public record ProcessBoot(String id, BootRequest request, byte[] image, byte[] bootParameters, long lowMemoryLimit,
        long requestedNanos, Consumer<Vm> onStopped) {}

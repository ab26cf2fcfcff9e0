package dev.thaw.api.vm;

import dev.thaw.api.snapshot.SnapshotReader;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A snapshot to restore on a {@link ProcessRuntime}, its options settled by the VM manager.
 *
 * @param id the new VM's id
 * @param snapshot the open snapshot; the runtime owns it from the call on and closes it when done with it, also
 *     when the restore fails
 * @param offset the byte of the snapshot's file its stream starts at (QEMU's {@code file:PATH,offset=N}), usually 0
 * @param eager the runtime's own eager load; else lazy, in the order of {@code policy}
 * @param policy the installed page policy of a lazy restore; null when eager
 * @param loaderThreads background loader threads of a lazy restore
 * @param profile the working-set profile of the snapshot: read by a lazy restore where it exists, written by one
 *     that records
 * @param recordProfile record the guest's first-touch order into {@code profile}
 * @param preloadWorkingSet load the pages of {@code profile} before the guest runs
 * @param image the test guest's image, as a VM of this runtime booted it
 * @param requestedNanos when the command came ({@link System#nanoTime()}): the resume latency counts from here
 * @param onStopped told once the VM is stopped and everything it held is freed
 */
public record ProcessRestore(String id, SnapshotReader snapshot, long offset, boolean eager, String policy, int loaderThreads, Path profile,
        boolean recordProfile, boolean preloadWorkingSet, byte[] image, long requestedNanos, Consumer<Vm> onStopped) {}

package dev.thaw.api.vm;

import dev.thaw.api.snapshot.Progress;
import dev.thaw.api.snapshot.SnapshotSummary;
import java.nio.file.Path;
import dev.thaw.api.restore.RestoreStats;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** A VM managed by a {@link VmManager}. */
@ProviderType
public interface Vm {

    String id();

    VmInfo info();

    /** Everything the guest has written to its console so far (bounded: the oldest bytes are dropped). */
    String consoleText();

    /** Every byte the guest ever wrote to its console, including dropped ones. */
    long consoleBytesWritten();

    /** Sends {@code text} to the guest's console input. */
    void sendInput(String text);

    /**
     * Waits until the guest has printed a console line starting with {@code prefix} at or after console
     * byte {@code fromByte}; returns that line.
     *
     * @throws VmException if the VM stops first or the timeout passes
     */
    String awaitLine(String prefix, long fromByte, Duration timeout);

    /** Runs one invocation of the {@code function} workload and waits for its result line. */
    Invocation invoke(Duration timeout);

    /**
     * Pauses every vCPU at a consistent point (pending I/O completed), writes VM, vCPU and device state
     * and guest memory to {@code file}, then stops the VM, or lets it run on when {@code resume}.
     *
     * @throws dev.thaw.api.snapshot.SnapshotException if the file cannot be written (the VM then runs on)
     */
    SnapshotSummary snapshot(Path file, boolean resume, Progress progress);

    /**
     * As {@link #snapshot(Path, boolean, Progress)}, the snapshot starting at byte {@code offset} of {@code file}
     * (QEMU's {@code file:PATH,offset=N}): the file's first {@code offset} bytes are kept as they were. Only a VM
     * whose snapshot format may start at an offset (the qemu runtime's) takes one other than 0.
     *
     * @throws VmException for an offset this VM's snapshots cannot start at
     */
    default SnapshotSummary snapshot(Path file, long offset, boolean resume, Progress progress) {
        if (offset != 0) {
            throw new VmException(id() + " runs on the " + info().runtime() + " runtime, whose snapshots start at byte 0 of "
                    + "their file, not at " + offset);
        }
        return snapshot(file, resume, progress);
    }

    /**
     * Its guest memory in host memory now: what it shares with its fleet and what it holds alone. Empty where the
     * runtime cannot tell (a VM in a process of its own, say).
     */
    default Optional<GuestMemoryUse> memoryUse() {
        return Optional.empty();
    }

    /** The figures of the lazy restore this VM came from, live while it loads; empty for other VMs. */
    Optional<RestoreStats> restoreStats();

    /**
     * Waits until the lazy restore this VM came from has ended (every page loaded, or failed), telling
     * {@code progress} the bytes loaded as it goes; returns its figures (phase COMPLETE or FAILED), or
     * empty for a VM that was not restored lazily. A restore with policy {@code none} loads only on
     * demand, so it ends only once the guest has touched every page.
     *
     * @throws VmException if it has not ended within {@code timeout}
     */
    Optional<RestoreStats> awaitLoaded(Duration timeout, Progress progress);

    /**
     * The vCPU runtime's counters of this VM ({@link dev.thaw.api.runtime.VirtualMachine#counters()}): on the
     * emulated runtime {@code instructions} executed and {@code unimplementedOpcodes}, summed over the vCPUs;
     * empty on KVM. Approximately current while the VM runs; a VM that stopped or exited keeps its last figures.
     */
    default Map<String, Long> runtimeCounters() {
        return Map.of();
    }

    /**
     * Ends the working-set recording of a restore made with {@code recordProfile} and writes the profile
     * (to {@link VmManager#profileFile}); returns its path.
     */
    Path saveProfile();

    /** Stops the vCPUs and frees everything the VM holds. Idempotent. */
    void stop();
}

package dev.thaw.api.device;

import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One emulated device of one VM. Accesses arrive on the vCPU thread that performed them, so a device
 * with several vCPUs synchronizes its own state.
 *
 * <p>Its state is a record of plain values, {@code S}, with a version: snapshots store the record as a JSON
 * object tree beside {@link #stateVersion()}, and a restore gives the device back a record of its own type,
 * converted from a state of a version it restores ({@link #oldestStateVersion()} to {@link #stateVersion()},
 * older ones brought up to date by {@link #upgradeState}); a state of any other version is refused, naming
 * the device, the state's version and the versions the device restores.
 *
 * @param <S> the device's state record
 */
@ConsumerType
public interface Device<S extends Record> extends AutoCloseable {

    /** The version of a state that does not say its version: snapshots written before device states had one. */
    int FIRST_STATE_VERSION = 1;

    /** The ports this device answers; fixed for the device's life. */
    List<PortRange> ports();

    /** A guest {@code in} of {@code size} bytes (1, 2 or 4) from {@code port}. */
    long read(int port, int size);

    /** A guest {@code out} of {@code size} bytes (1, 2 or 4) to {@code port}. */
    void write(int port, int size, long value);

    /** The type of the record {@link #saveState()} returns; snapshots convert it to JSON and back. */
    Class<S> stateType();

    /**
     * The version of {@link #stateType()}'s layout that {@link #saveState()} returns: {@link #FIRST_STATE_VERSION}
     * first, one more each time the record changes so that a state of one layout would not read as the same
     * state in the other (a component added, removed, renamed or given another meaning).
     */
    int stateVersion();

    /**
     * The oldest state version this device restores, bringing it up to date with {@link #upgradeState}; by
     * default {@link #stateVersion()}: only states of its own layout.
     */
    default int oldestStateVersion() {
        return stateVersion();
    }

    /**
     * A state saved at {@code version} (from {@link #oldestStateVersion()} to {@link #stateVersion()} - 1)
     * brought to {@link #stateVersion()}'s layout, both as JSON object trees of plain values (maps, lists,
     * strings, numbers, booleans; byte arrays as base64 strings). {@code state} is the device's to read, not
     * to change. Called only for such versions; the default, for a device that restores its own version
     * alone, is never called.
     *
     * @throws IllegalArgumentException if the state cannot be brought up to date (the message says why)
     */
    default Map<String, Object> upgradeState(int version, Map<String, Object> state) {
        throw new IllegalArgumentException("state version " + version + " cannot be brought to version " + stateVersion());
    }

    /**
     * The device's registers, FIFOs and pending interrupts as a record of plain values. Called while
     * the VM's vCPUs are paused.
     */
    S saveState();

    /**
     * Takes back what {@link #saveState()} returned, on a new device of a VM being restored: after the
     * VM's interrupt controllers are restored and before its vCPUs run, so the device re-asserts the
     * interrupt lines its state says are pending. The record may be the one an earlier restore of the
     * same snapshot was given: read it (its arrays too), never change it or keep it.
     *
     * @throws IllegalArgumentException if the state is inconsistent
     */
    void restoreState(S state);

    /** Releases whatever the device holds; the VM is gone or going. */
    @Override
    default void close() {}
}

package dev.thaw.api.device;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One emulated device of one VM. Accesses arrive on the vCPU thread that performed them, so a device
 * with several vCPUs synchronizes its own state.
 */
@ConsumerType
public interface Device extends AutoCloseable {

    /** The ports this device answers; fixed for the device's life. */
    List<PortRange> ports();

    /** A guest {@code in} of {@code size} bytes (1, 2 or 4) from {@code port}. */
    long read(int port, int size);

    /** A guest {@code out} of {@code size} bytes (1, 2 or 4) to {@code port}. */
    void write(int port, int size, long value);

    /** The type of the record {@link #saveState()} returns; snapshots convert it to JSON and back. */
    Class<? extends Record> stateType();

    /**
     * The device's registers, FIFOs and pending interrupts as a record of plain values. Called while
     * the VM's vCPUs are paused.
     */
    Record saveState();

    /**
     * Takes back what {@link #saveState()} returned, on a new device of a VM being restored: after the
     * VM's interrupt controllers are restored and before its vCPUs run, so the device re-asserts the
     * interrupt lines its state says are pending. The record may be the one an earlier restore of the
     * same snapshot was given: read it (its arrays too), never change it or keep it.
     *
     * @throws IllegalArgumentException if the state is not this device's or is inconsistent
     */
    void restoreState(Record state);

    /** Releases whatever the device holds; the VM is gone or going. */
    @Override
    default void close() {}
}

package dev.thaw.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told once when a started VM has ended, whatever the cause, after every vCPU thread has left its run
 * loop. Called on the last vCPU thread to finish; it may call {@link VirtualMachine#close()}.
 */
@ConsumerType
@FunctionalInterface
public interface ExitListener {

    void vmExited(VmExit exit);
}

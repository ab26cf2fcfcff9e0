package dev.thaw.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/** A device that takes console input for the guest (a UART's receive side). */
@ConsumerType
public interface ConsoleInput {

    /**
     * Queues {@code data} for the guest. Returns how many bytes were taken; fewer than offered when the
     * device's buffer is full (the caller retries later, as a real serial line would wait).
     */
    int receive(byte[] data, int offset, int length);
}

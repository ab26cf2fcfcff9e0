package dev.thaw.api.device;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Makes devices of one type, one per VM. Registered as an OSGi service with the service property
 * {@link #TYPE_PROPERTY} equal to {@link #type()}.
 */
@ConsumerType
public interface DeviceProvider {

    /** Service property naming the device type, e.g. {@code uart8250}. */
    String TYPE_PROPERTY = "thaw.device.type";

    String type();

    /** A new device wired to one VM through {@code context}. */
    Device<?> create(DeviceContext context);
}

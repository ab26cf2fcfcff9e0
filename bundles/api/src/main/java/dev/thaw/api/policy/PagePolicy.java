package dev.thaw.api.policy;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A named page policy, registered as an OSGi service with {@link #NAME_PROPERTY} equal to its
 * {@link #name()}. Third parties implement it with nothing but this API.
 */
@ConsumerType
public interface PagePolicy {

    String NAME_PROPERTY = "thaw.policy.name";

    /** Short and unique, e.g. {@code sequential}; what {@code --policy} takes. */
    String name();

    /** One line for {@code thaw:policies}. */
    String description();

    /** A plan for one restore, made before its vCPUs start. */
    PolicySession start(RestoreView restore);
}

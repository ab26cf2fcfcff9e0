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

    /**
     * A plan for one restore, made on an engine thread once its vCPUs run (never on the resume path: it
     * may read a working-set profile). Faults before it returns load their page alone.
     */
    PolicySession start(RestoreView restore);
}

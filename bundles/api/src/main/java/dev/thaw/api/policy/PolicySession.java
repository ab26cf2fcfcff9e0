package dev.thaw.api.policy;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One restore's policy state. The engine calls {@link #onFault} from its fault service and
 * {@link #next} from its background loaders, possibly at the same time: a session synchronizes its own
 * state. Both run on the restore's critical path and must return quickly. Ranges may cover pages that
 * are already loaded or outside guest memory; the engine skips what is loaded, and ignores (and counts as
 * a policy error) what is outside. An exception from a session is counted and reported, never fatal:
 * the engine then serves the fault on demand.
 */
@ConsumerType
public interface PolicySession {

    /**
     * A vCPU faulted on {@code page}, which the engine loads in any case: which other pages to load with
     * it, before the vCPU is woken. The default loads nothing else.
     */
    default List<PageRange> onFault(long page, int vcpu) {
        return List.of();
    }

    /**
     * What the background loader should load next, in order; an empty list when the policy has no
     * preference left (the engine then loads the remaining pages in address order). The default has no
     * preference.
     */
    default List<PageRange> next() {
        return List.of();
    }

    /** Whether background loaders run at all; {@code false} makes a pure demand-loading restore. */
    default boolean backgroundLoading() {
        return true;
    }

    /** The restore ended (all pages present, or it failed); release what the session holds. */
    default void close() {}
}

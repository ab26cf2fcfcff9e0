package dev.thaw.api.snapshot;

import org.osgi.annotation.versioning.ConsumerType;

/** Told how far a long piece of work has come. */
@ConsumerType
@FunctionalInterface
public interface Progress {

    Progress NONE = (done, total) -> {};

    void update(long done, long total);
}

package dev.thaw.api.restore;

/** What a restore does with its snapshot's working-set profile ({@link RestoreRequest#profileFile()}). */
public enum ProfileMode {
    /** Neither read nor written. */
    IGNORE,
    /** Read if present and recorded on this snapshot (else ignored with a warning); policies see it. */
    USE,
    /**
     * Pure demand loading that logs first-touch order until {@link LazyRestore#saveProfile()}, which
     * writes the profile and starts background loading of the rest.
     */
    RECORD
}

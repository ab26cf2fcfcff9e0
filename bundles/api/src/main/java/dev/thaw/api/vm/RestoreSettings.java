package dev.thaw.api.vm;

/**
 * The restore settings in force, from the configuration (PID {@code dev.thaw.restore}, the file
 * {@code config/dev.thaw.restore.cfg}); a restore's own options override them.
 *
 * @param defaultPolicy the page policy of a lazy restore that names none
 * @param fallbackPolicy the policy used, with a warning, when the one asked for is not installed; empty:
 *     such a restore fails instead
 * @param loaderThreads background loader threads of a lazy restore that names no number
 * @param profileDirectory the folder that holds working-set profiles; empty: each beside its snapshot
 * @param lastRejected why the last configuration change was refused (the settings before it stayed in
 *     force), or empty
 */
public record RestoreSettings(String defaultPolicy, String fallbackPolicy, int loaderThreads, String profileDirectory,
        String lastRejected) {}

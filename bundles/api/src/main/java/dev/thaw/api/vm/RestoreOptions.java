package dev.thaw.api.vm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to bring a VM back from a snapshot.
 *
 * @param file the snapshot file
 * @param name the new VM's id, or null to have one chosen
 * @param eager load all memory before the vCPUs start; otherwise memory is loaded lazily after they start
 * @param policy the page policy of a lazy restore ({@code none} is pure demand loading), or null for the
 *     configured default ({@link RestoreSettings#defaultPolicy()})
 * @param loaderThreads background loader threads of a lazy restore, or 0 for the configured default
 * @param recordProfile record the guest's first-touch order into the snapshot's working-set profile
 *     ({@link VmManager#profileFile})
 * @param runtime the vCPU runtime to restore on ({@link VmManager#runtimes()}), or null for the configured one
 * @param offset the byte of {@code file} the snapshot starts at (QEMU's {@code file:PATH,offset=N}), usually 0; only
 *     formats that may start at an offset (QEMU's) restore from another
 * @param preloadWorkingSet load the pages of the snapshot's working-set profile before the guest runs (lazy restores
 *     on the qemu runtime): the resume waits for them, the first invocation then finds them in; the rest follows in
 *     the policy's order. Without a profile, nothing is preloaded
 */
public record RestoreOptions(Path file, String name, boolean eager, String policy, int loaderThreads, boolean recordProfile,
        String runtime, long offset, boolean preloadWorkingSet) {

    /** The default policy where the configuration names none. */
    public static final String DEFAULT_POLICY = "sequential";
    /**
     * Loader threads where the configuration names none. Two: one reads and checks pages while the
     * other's copy is in the kernel; measured with {@code ./thaw bench restore} on two cores, beside a
     * running guest, more did not load faster.
     */
    public static final int DEFAULT_LOADER_THREADS = 2;
    public static final int MAX_LOADER_THREADS = 64;

    public RestoreOptions {
        Objects.requireNonNull(file, "file");
        if (loaderThreads < 0 || loaderThreads > MAX_LOADER_THREADS) {
            throw new IllegalArgumentException("loader threads must be 1 to " + MAX_LOADER_THREADS + " (0: the configured default), not "
                    + loaderThreads);
        }
        if (eager && recordProfile) {
            throw new IllegalArgumentException("an eager restore loads everything first, so it has no touch order to record");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("a snapshot's offset in its file cannot be negative, as " + offset + " is");
        }
        if (preloadWorkingSet && eager) {
            throw new IllegalArgumentException("an eager restore loads everything first, so there is no working set to preload");
        }
        if (preloadWorkingSet && recordProfile) {
            throw new IllegalArgumentException("a recording restore writes the working-set profile, so it has none to preload");
        }
    }


    /** From the file's first byte. */
    public RestoreOptions(Path file, String name, boolean eager, String policy, int loaderThreads, boolean recordProfile,
            String runtime) {
        this(file, name, eager, policy, loaderThreads, recordProfile, runtime, 0, false);
    }

    /** On the configured runtime. */
    public RestoreOptions(Path file, String name, boolean eager, String policy, int loaderThreads, boolean recordProfile) {
        this(file, name, eager, policy, loaderThreads, recordProfile, null);
    }

    /** The same restore on {@code runtime} (null: the configured one). */
    public RestoreOptions onRuntime(String runtime) {
        return new RestoreOptions(file, name, eager, policy, loaderThreads, recordProfile, runtime, offset, preloadWorkingSet);
    }

    /** The same restore, of a VM named {@code name} (null: one chosen). */
    public RestoreOptions named(String name) {
        return new RestoreOptions(file, name, eager, policy, loaderThreads, recordProfile, runtime, offset, preloadWorkingSet);
    }

    /** The same restore of the snapshot that starts at byte {@code offset} of the file. */
    public RestoreOptions atOffset(long offset) {
        return new RestoreOptions(file, name, eager, policy, loaderThreads, recordProfile, runtime, offset, preloadWorkingSet);
    }

    /** The same restore, loading the working-set profile's pages before the guest runs. */
    public RestoreOptions preloadingWorkingSet() {
        return new RestoreOptions(file, name, eager, policy, loaderThreads, recordProfile, runtime, offset, true);
    }

    /** An eager restore of {@code file}. */
    public static RestoreOptions eager(Path file, String name) {
        return new RestoreOptions(file, name, true, null, 0, false);
    }

    /** A lazy restore of {@code file} with {@code policy} (null: the configured default) and the configured loader threads. */
    public static RestoreOptions lazy(Path file, String name, String policy) {
        return new RestoreOptions(file, name, false, policy, 0, false);
    }
}

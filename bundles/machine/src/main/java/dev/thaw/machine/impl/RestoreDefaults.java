package dev.thaw.machine.impl;

import dev.thaw.api.restore.RestoreRequest;
import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.RestoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The restore settings in force. A configuration change is checked as a whole: one with a bad value is
 * refused with the reason logged and kept for {@code thaw:policies}, and the settings before it stay (at
 * activation, the built-in defaults). Whether the named policies are installed is checked at each restore,
 * since policy bundles come and go. A relative profile folder lies in the Thaw home, whatever folder the
 * process was started from.
 */
final class RestoreDefaults {

    private static final Logger LOG = LoggerFactory.getLogger(RestoreDefaults.class);
    static final String PID = "dev.thaw.restore";
    private static final Pattern POLICY_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,39}");
    /** Hex digits of the snapshot path's hash in a profile's name in the profile folder. */
    private static final int PATH_HASH_HEX = 12;

    /** What a relative profile folder is relative to (absolute, normalized). */
    private final Path home;
    private volatile RestoreSettings settings =
            new RestoreSettings(RestoreOptions.DEFAULT_POLICY, "", RestoreOptions.DEFAULT_LOADER_THREADS, "", "");

    /** @param home the Thaw home (see {@link GuestVmManager#home}) */
    RestoreDefaults(Path home) {
        this.home = home.toAbsolutePath().normalize();
    }

    RestoreSettings get() {
        return settings;
    }

    /** Applies {@code config} if every value is good; else logs why and keeps the settings in force. */
    void apply(GuestVmManager.Config config) {
        List<String> problems = problems(config);
        RestoreSettings now = settings;
        if (problems.isEmpty()) {
            String folder = config.profileDirectory().isBlank() ? "" : inHome(config.profileDirectory()).toString();
            settings = new RestoreSettings(config.defaultPolicy(), config.fallbackPolicy(), config.loaderThreads(), folder, "");
            LOG.info("restore settings: default policy {}, fallback {}, {} loader threads, profiles {}", config.defaultPolicy(),
                    config.fallbackPolicy().isEmpty() ? "none" : config.fallbackPolicy(), config.loaderThreads(),
                    folder.isEmpty() ? "beside their snapshots" : "in " + folder);
            return;
        }
        String why = "configuration " + PID + " refused: " + String.join("; ", problems) + " (default policy "
                + now.defaultPolicy() + ", " + now.loaderThreads() + " loader threads stay in force)";
        LOG.warn(why);
        settings = new RestoreSettings(now.defaultPolicy(), now.fallbackPolicy(), now.loaderThreads(), now.profileDirectory(), why);
    }

    /**
     * Where {@code snapshot}'s working-set profile is: beside it, or in the profile folder under the
     * snapshot's file name and a hash of its absolute path (two snapshots of one name in two folders keep
     * two profiles).
     */
    Path profileFile(Path snapshot) {
        String folder = settings.profileDirectory();
        if (folder.isEmpty()) {
            return RestoreRequest.profileBeside(snapshot);
        }
        Path absolute = snapshot.toAbsolutePath().normalize();
        return Path.of(folder).resolve(absolute.getFileName() + "." + pathHash(absolute) + ".profile.json");
    }

    private static String pathHash(Path path) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(path.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha).substring(0, PATH_HASH_HEX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code folder} as it is meant: relative to the Thaw home, not to the process's working folder. */
    private Path inHome(String folder) {
        return home.resolve(folder).normalize();
    }

    List<String> problems(GuestVmManager.Config config) {
        List<String> problems = new ArrayList<>();
        if (!POLICY_NAME.matcher(String.valueOf(config.defaultPolicy())).matches()) {
            problems.add("defaultPolicy '" + config.defaultPolicy() + "' is not a policy name");
        }
        String fallback = String.valueOf(config.fallbackPolicy());
        if (!fallback.isEmpty() && !POLICY_NAME.matcher(fallback).matches()) {
            problems.add("fallbackPolicy '" + fallback + "' is not a policy name (empty: no fallback)");
        }
        if (config.loaderThreads() < 1 || config.loaderThreads() > RestoreOptions.MAX_LOADER_THREADS) {
            problems.add("loaderThreads " + config.loaderThreads() + " is out of range (1 to " + RestoreOptions.MAX_LOADER_THREADS + ")");
        }
        String folder = String.valueOf(config.profileDirectory());
        if (!folder.isBlank()) {
            try {
                Path p = inHome(folder);
                if (Files.exists(p) && !Files.isDirectory(p)) {
                    problems.add("profileDirectory '" + folder + "'" + (p.toString().equals(folder) ? "" : " (" + p + ")")
                            + " is a file, not a folder");
                }
            } catch (InvalidPathException e) {
                problems.add("profileDirectory '" + folder + "' is not a path: " + e.getReason());
            }
        }
        return problems;
    }
}

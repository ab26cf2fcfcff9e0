package dev.thaw.machine.impl;

import dev.thaw.api.vm.RestoreOptions;
import dev.thaw.api.vm.RestoreSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The restore settings in force. A configuration change is checked as a whole: one with a bad value is
 * refused with the reason logged and kept for {@code thaw:policies}, and the settings before it stay.
 * Whether the named policies are installed is checked at each restore, since policy bundles come and go.
 */
final class RestoreDefaults {

    private static final Logger LOG = LoggerFactory.getLogger(RestoreDefaults.class);
    static final String PID = "dev.thaw.restore";
    private static final Pattern POLICY_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,39}");

    private volatile RestoreSettings settings =
            new RestoreSettings(RestoreOptions.DEFAULT_POLICY, "", RestoreOptions.DEFAULT_LOADER_THREADS, "");

    RestoreSettings get() {
        return settings;
    }

    /** Applies {@code config} if every value is good; else logs why and keeps the settings in force. */
    void apply(GuestVmManager.Config config) {
        List<String> problems = problems(config);
        RestoreSettings now = settings;
        if (problems.isEmpty()) {
            settings = new RestoreSettings(config.defaultPolicy(), config.fallbackPolicy(), config.loaderThreads(), "");
            LOG.info("restore settings: default policy {}, fallback {}, {} loader threads", config.defaultPolicy(),
                    config.fallbackPolicy().isEmpty() ? "none" : config.fallbackPolicy(), config.loaderThreads());
            return;
        }
        String why = "configuration " + PID + " refused: " + String.join("; ", problems) + " (default policy "
                + now.defaultPolicy() + ", " + now.loaderThreads() + " loader threads stay in force)";
        LOG.warn(why);
        settings = new RestoreSettings(now.defaultPolicy(), now.fallbackPolicy(), now.loaderThreads(), why);
    }

    static List<String> problems(GuestVmManager.Config config) {
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
        return problems;
    }
}

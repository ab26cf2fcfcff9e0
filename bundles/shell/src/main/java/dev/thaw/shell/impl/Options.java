package dev.thaw.shell.impl;

import java.time.Duration;

/** Parses option values with messages that name the option. */
final class Options {

    private Options() {}

    static long parseLong(String option, String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + text + "' is not a whole number");
        }
    }

    static int positiveInt(String option, String text) {
        long v = parseLong(option, text);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " must be at least 1, not " + text);
        }
        return (int) v;
    }

    /** A share in percent, 1 to 100. */
    static int percent(String option, String text) {
        long v = parseLong(option, text);
        if (v < 1 || v > 100) {
            throw new IllegalArgumentException(option + " must be 1 to 100, not " + text);
        }
        return (int) v;
    }

    static Duration seconds(String option, String text) {
        return Duration.ofSeconds(positiveInt(option, text));
    }
}

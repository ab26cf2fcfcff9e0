package dev.thaw.api.vm;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The test guest's workloads; {@link #code()} is the value the guest reads from its boot parameters. */
public enum Workload {
    FILL(0),
    TOUCH(1),
    FUNCTION(2);

    private final int code;

    Workload(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The lower-case name the guest prints in its result lines. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Workload parse(String text) {
        for (Workload w : values()) {
            if (w.label().equals(text)) {
                return w;
            }
        }
        throw new IllegalArgumentException("unknown workload '" + text + "' (known: "
                + Arrays.stream(values()).map(Workload::label).collect(Collectors.joining(", ")) + ")");
    }
}

package dev.thaw.api.vm;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The order in which the {@code touch} workload visits its pages. */
public enum TouchOrder {
    SEQUENTIAL(0),
    RANDOM(1),
    STRIDED(2);

    private final int code;

    TouchOrder(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TouchOrder parse(String text) {
        for (TouchOrder o : values()) {
            if (o.label().equals(text)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown touch order '" + text + "' (known: "
                + Arrays.stream(values()).map(TouchOrder::label).collect(Collectors.joining(", ")) + ")");
    }
}

package dev.thaw.bench.impl;

import java.util.List;
import java.util.Objects;

/** Medians of figures gathered over rounds; a figure missing in every round stays missing. */
final class Median {

    private Median() {}

    static Double of(List<Double> values) {
        List<Double> present = values.stream().filter(Objects::nonNull).sorted().toList();
        if (present.isEmpty()) {
            return null;
        }
        int n = present.size();
        return n % 2 == 1 ? present.get(n / 2) : (present.get(n / 2 - 1) + present.get(n / 2)) / 2;
    }

    static Long ofLongs(List<Long> values) {
        Double m = of(values.stream().map(v -> v == null ? null : v.doubleValue()).toList());
        return m == null ? null : Math.round(m);
    }
}

package dev.thaw.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thaw.api.state.MsrEntry;
import java.util.ArrayList;
import java.util.List;

/** Comparing saved MSR lists: the same MSRs in the same order, the same values, but for the TSC, which runs on. */
public final class MsrAssertions {

    static final long MSR_IA32_TSC = 0x10;
    /** How far the TSC may run on between two reads of one test (a loaded machine is slow). */
    static final long TSC_TOLERANCE = 10_000_000_000L;

    private MsrAssertions() {}

    public static void assertMsrsEqual(List<MsrEntry> expected, List<MsrEntry> actual) {
        assertEquals(expected.stream().map(MsrEntry::index).toList(), actual.stream().map(MsrEntry::index).toList());
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
            MsrEntry e = expected.get(i);
            MsrEntry a = actual.get(i);
            if (e.index() == MSR_IA32_TSC) {
                long delta = a.data() - e.data();
                if (delta < 0 || delta > TSC_TOLERANCE) {
                    differences.add("TSC moved by " + delta);
                }
            } else if (e.data() != a.data()) {
                differences.add(e + " became " + a);
            }
        }
        assertEquals(List.of(), differences);
    }
}

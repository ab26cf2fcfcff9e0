package dev.thaw.machine.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.vm.RestoreSettings;
import dev.thaw.testing.ConfigProxy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A configuration change applies whole, or is refused whole with its reasons while the settings before it stay. */
class RestoreDefaultsTest {

    private static GuestVmManager.Config config(Map<String, ?> values) {
        return ConfigProxy.of(GuestVmManager.Config.class, values);
    }

    @Test
    void aGoodChangeAppliesAndClearsAnEarlierRefusal() {
        RestoreDefaults d = new RestoreDefaults();
        assertEquals(new RestoreSettings("sequential", "", 2, ""), d.get(), "built-in defaults");
        d.apply(config(Map.of("loaderThreads", 65)));
        assertTrue(d.get().lastRejected().contains("loaderThreads 65 is out of range (1 to 64)"), d.get().lastRejected());
        d.apply(config(Map.of("defaultPolicy", "prefetch-window", "fallbackPolicy", "none", "loaderThreads", 1)));
        assertEquals(new RestoreSettings("prefetch-window", "none", 1, ""), d.get());
    }

    @Test
    void aChangeWithAnyBadValueIsRefusedWithEveryReasonAndNothingOfItApplies() {
        RestoreDefaults d = new RestoreDefaults();
        d.apply(config(Map.of("defaultPolicy", "none", "loaderThreads", 4)));
        d.apply(config(Map.of("defaultPolicy", "prefetch-window", "fallbackPolicy", "Bad Name", "loaderThreads", 0)));
        RestoreSettings s = d.get();
        assertEquals("none", s.defaultPolicy());
        assertEquals(4, s.loaderThreads());
        assertTrue(s.lastRejected().startsWith("configuration dev.thaw.restore refused: "), s.lastRejected());
        assertTrue(s.lastRejected().contains("fallbackPolicy 'Bad Name' is not a policy name"), s.lastRejected());
        assertTrue(s.lastRejected().contains("loaderThreads 0 is out of range"), s.lastRejected());
        d.apply(config(Map.of("defaultPolicy", "")));
        assertTrue(d.get().lastRejected().contains("defaultPolicy '' is not a policy name"), d.get().lastRejected());
    }
}

package dev.thaw.support.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PolicyParameters;
import dev.thaw.testing.ConfigProxy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A policy's configuration: the declared defaults when refused at activation, the one before when a change is refused. */
class PolicyConfigTest {

    @interface Config {
        long chunkKiB() default 2048;

        boolean background() default true;
    }

    /** As a policy's check: the range its Metatype declares. */
    private static Config check(Config c) {
        PolicyParameters.inRange("test", "chunkKiB", c.chunkKiB(), 4, 1048576);
        return c;
    }

    private static Config chunk(long kib) {
        return ConfigProxy.of(Config.class, Map.of("chunkKiB", kib));
    }

    @Test
    void defaultsAreTheDeclaredOnes() {
        Config defaults = PolicyConfig.defaults(Config.class);
        assertEquals(2048, defaults.chunkKiB());
        assertTrue(defaults.background());
        assertSame(Config.class, defaults.annotationType());
        assertTrue(defaults.toString().contains(Config.class.getName()), defaults.toString());
    }

    @Test
    void anAcceptedConfigurationIsUsed() {
        Config c = chunk(16);
        assertSame(c, new PolicyConfig<>("test", Config.class, c, PolicyConfigTest::check).get());
    }

    @Test
    void oneRefusedAtActivationLeavesTheDeclaredDefaults() {
        PolicyConfig<Config> config = new PolicyConfig<>("test", Config.class, chunk(2), PolicyConfigTest::check);
        assertEquals(2048, config.get().chunkKiB());
    }

    @Test
    void aRefusedChangeLeavesTheConfigurationBeforeIt() {
        PolicyConfig<Config> config = new PolicyConfig<>("test", Config.class, chunk(16), PolicyConfigTest::check);
        config.change(chunk(4096));
        assertEquals(4096, config.get().chunkKiB());
        config.change(chunk(2));
        assertEquals(4096, config.get().chunkKiB());
    }

    @Test
    void kibAreWholePagesAtLeastOne() {
        assertEquals(512, KiB.pages("test", "chunkKiB", 2048, 4096));
        assertEquals(1, KiB.pages("test", "chunkKiB", 1, 4096));
        assertEquals(1, KiB.pages("test", "chunkKiB", 1024, 2 << 20), "half a 2 MiB page");
        var zero = assertThrows(IllegalArgumentException.class, () -> KiB.pages("test", "chunkKiB", 0, 4096));
        assertEquals("test: chunkKiB must be 1 to 2^30 KiB, not 0", zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KiB.pages("test", "chunkKiB", KiB.MAX + 1, 4096));
    }
}

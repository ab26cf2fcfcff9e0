package dev.thaw.policy.sequential.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.policy.PagePolicy;
import dev.thaw.api.policy.PageRange;
import dev.thaw.api.policy.PolicySession;
import dev.thaw.testing.ConfigProxy;
import dev.thaw.testing.policy.FakeRestore;
import dev.thaw.testing.policy.PagePolicyContract;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SequentialPolicyTest extends PagePolicyContract {

    @Override
    protected PagePolicy policy() {
        return new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
    }

    @Override
    protected Optional<Map<String, Object>> demandOnlyParameters() {
        return Optional.of(Map.of("background", false));
    }

    @Test
    void defaultsAreTwoMibInTheBackgroundAndSixtyFourKibOnAFault() {
        PolicySession session = policy().start(FakeRestore.of(2000));
        assertEquals(List.of(new PageRange(0, 512)), session.next());
        assertEquals(List.of(new PageRange(512, 512)), session.next());
        assertEquals(List.of(new PageRange(96, 16)), session.onFault(100, 0));
    }

    @Test
    void faultChunkIsAlignedAndClippedAtTheEndOfMemory() {
        PolicySession session = policy().start(FakeRestore.of(1000));
        assertEquals(List.of(new PageRange(0, 16)), session.onFault(0, 0));
        assertEquals(List.of(new PageRange(16, 16)), session.onFault(31, 0));
        assertEquals(List.of(new PageRange(992, 8)), session.onFault(999, 0));
    }

    @Test
    void backgroundSkipsLoadedPagesAndStaysAligned() {
        FakeRestore restore = FakeRestore.of(2000);
        restore.load(new PageRange(0, 600));
        restore.load(new PageRange(1024, 512));
        PolicySession session = policy().start(restore);
        List<PageRange> first = session.next();
        assertEquals(List.of(new PageRange(600, 424)), first, "the rest of the chunk after the loaded pages");
        restore.load(first);
        List<PageRange> second = session.next();
        assertEquals(List.of(new PageRange(1536, 464)), second, "the loaded chunk is skipped; the last is clipped");
        restore.load(second);
        assertEquals(List.of(), session.next());
    }

    @Test
    void restoreParametersOverrideTheConfiguration() {
        FakeRestore restore = FakeRestore.of(100).with("chunkKiB", 40).with("faultChunkKiB", "8");
        PolicySession session = policy().start(restore);
        assertEquals(List.of(new PageRange(0, 10)), session.next());
        assertEquals(List.of(new PageRange(4, 2)), session.onFault(5, 0));
    }

    @Test
    void configurationIsUsedAndDescribed() {
        PagePolicy policy = new SequentialPolicy(ConfigProxy.of(SequentialPolicy.Config.class, Map.of("chunkKiB", 16L)));
        assertEquals(List.of(new PageRange(0, 4)), policy.start(FakeRestore.of(100)).next());
        assertTrue(policy.description().contains("16 KiB"), policy.description());
    }

    @Test
    void badParametersAreRejectedWithTheirName() {
        var zero = assertThrows(IllegalArgumentException.class, () -> policy().start(FakeRestore.of(100).with("chunkKiB", 0)));
        assertTrue(zero.getMessage().contains("chunkKiB"), zero.getMessage());
        var text = assertThrows(IllegalArgumentException.class, () -> policy().start(FakeRestore.of(100).with("faultChunkKiB", "lots")));
        assertTrue(text.getMessage().contains("faultChunkKiB"), text.getMessage());
    }

    @Test
    void aConfigurationChangeAppliesAndOneWithABadValueIsRefusedThePreviousStaying() {
        SequentialPolicy p = new SequentialPolicy(ConfigProxy.defaults(SequentialPolicy.Config.class));
        p.modified(ConfigProxy.of(SequentialPolicy.Config.class, Map.of("chunkKiB", 4096L)));
        assertTrue(p.description().contains("4096 KiB at a time"), p.description());
        p.modified(ConfigProxy.of(SequentialPolicy.Config.class, Map.of("chunkKiB", 2L, "faultChunkKiB", 8L)));
        assertTrue(p.description().contains("4096 KiB at a time") && p.description().contains("64 KiB chunk"), p.description());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SequentialPolicy.check(ConfigProxy.of(SequentialPolicy.Config.class, Map.of("faultChunkKiB", 131072L))));
        assertEquals("sequential: faultChunkKiB 131072 is out of range (4 to 65536)", e.getMessage());
    }

    @Test
    void aBadConfigurationAtActivationIsRefusedAndTheDeclaredDefaultsApply() {
        assertEquals(2048, ConfigProxy.defaults(SequentialPolicy.Config.class).chunkKiB());
        SequentialPolicy p = new SequentialPolicy(ConfigProxy.of(SequentialPolicy.Config.class,
                Map.of("chunkKiB", 2L, "faultChunkKiB", 16L)));
        assertTrue(p.description().contains("2048 KiB at a time") && p.description().contains("64 KiB chunk"),
                "the whole file refused, not just its bad value: " + p.description());
    }
}

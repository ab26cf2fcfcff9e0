package dev.thaw.support.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import org.junit.jupiter.api.Test;

/** The advice is taken for anonymous memory; a range the kernel refuses leaves the VM on 4 KiB pages, not failed. */
class HugePageAdviceTest {

    @Test
    void anonymousMemoryTakesTheAdvice() {
        try (Mapping m = Mapping.anonymous(4L << 20, Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE)) {
            assertTrue(HugePageAdvice.advise("test", m.address(), m.size()));
        }
    }

    @Test
    void aRangeNothingIsMappedAtIsRefusedWithoutAnException() {
        // Page 0 is never mapped (vm.mmap_min_addr): madvise fails with ENOMEM.
        assertFalse(HugePageAdvice.advise("test", 0, 4096));
    }
}

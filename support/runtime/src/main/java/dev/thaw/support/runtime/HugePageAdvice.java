package dev.thaw.support.runtime;

import dev.thaw.linux.ErrnoException;
import dev.thaw.linux.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Advises a VM's memory {@code MADV_HUGEPAGE} where no userfaultfd will serve it: then a first touch, or a read into
 * it, costs one fault per 2 MiB instead of one per 4 KiB. Huge pages are only faster: where the kernel refuses them,
 * the VM runs on 4 KiB pages, and says so.
 */
public final class HugePageAdvice {

    private static final Logger LOG = LoggerFactory.getLogger(HugePageAdvice.class);

    private HugePageAdvice() {
    }

    /**
     * Advises the {@code size} bytes at {@code address}, memory of the VM {@code vmName}; a refusal is logged.
     *
     * @return whether the kernel took the advice
     */
    public static boolean advise(String vmName, long address, long size) {
        try {
            Libc.madvise(address, size, Libc.MADV_HUGEPAGE);
            return true;
        } catch (ErrnoException e) {
            LOG.warn("VM {}: its memory stays in 4 KiB pages: madvise(MADV_HUGEPAGE) failed: {}", vmName, e.getMessage());
            return false;
        }
    }
}

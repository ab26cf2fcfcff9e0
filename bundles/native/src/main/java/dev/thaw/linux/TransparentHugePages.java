package dev.thaw.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the kernel says about transparent huge pages for anonymous memory (/sys/kernel/mm/transparent_hugepage). */
public final class TransparentHugePages {

    private static final Path DIR = Path.of("/sys/kernel/mm/transparent_hugepage");

    private TransparentHugePages() {}

    /**
     * The size of a huge page that anonymous memory advised {@code MADV_HUGEPAGE} gets (the PMD size, 2 MiB on
     * x86-64), or 0 when it gets none: the mode is {@code [never]}, that size's own mode (Linux 6.8) is
     * {@code [never]} or {@code [inherit]} of {@code [never]}, or the kernel has no transparent huge pages.
     */
    public static long anonymousSize() {
        try {
            long size = Long.parseLong(Files.readString(DIR.resolve("hpage_pmd_size")).strip());
            boolean global = !Files.readString(DIR.resolve("enabled")).contains("[never]");
            Path own = DIR.resolve("hugepages-" + (size >> 10) + "kB").resolve("enabled");
            String mode = Files.exists(own) ? Files.readString(own) : "[inherit]";
            boolean on = mode.contains("[inherit]") ? global : !mode.contains("[never]");
            return on ? size : 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}

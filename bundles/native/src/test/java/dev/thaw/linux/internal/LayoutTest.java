package dev.thaw.linux.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.linux.Errno;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Memfd;
import dev.thaw.linux.Userfaultfd;
import dev.thaw.linux.kvm.KvmConstants;
import java.lang.foreign.StructLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C program against the kernel headers that prints the size and offset of every struct
 * member the Java layouts model ({@link Structs#ALL}, walked recursively) and the value of every
 * ioctl number and constant (public static final fields named as C macros), and compares all of them
 * with the Java side ({@link HeaderCheck}). The C source is generated from the Java lists, so nothing
 * modelled goes unchecked.
 */
class LayoutTest {

    /** Classes whose public static final int/long fields are C macros of the same name. */
    private static final List<Class<?>> CONSTANT_CLASSES =
            List.of(Ioctls.class, KvmConstants.class, Errno.class, Libc.class, Userfaultfd.class, Memfd.class);

    private static final String HEADERS = """
            #define _GNU_SOURCE
            #include <stdio.h>
            #include <stddef.h>
            #include <errno.h>
            #include <fcntl.h>
            #include <poll.h>
            #include <signal.h>
            #include <time.h>
            #include <unistd.h>
            #include <sys/mman.h>
            #include <sys/stat.h>
            #include <sys/syscall.h>
            #include <sys/eventfd.h>
            #include <linux/kvm.h>
            #include <linux/userfaultfd.h>
            """;

    @TempDir
    Path dir;

    @Test
    void everyModelledStructMemberAndConstantMatchesTheKernelHeaders() throws Exception {
        HeaderCheck check = new HeaderCheck(HEADERS);
        for (StructLayout layout : Structs.ALL) {
            check.struct(layout);
        }
        int constants = 0;
        for (Class<?> c : CONSTANT_CLASSES) {
            constants += check.constants(c);
        }
        assertTrue(constants > 100, "expected the ioctl and constant tables, found " + constants + " constants");
        check.assertMatches(dir, "the kernel headers");
    }
}

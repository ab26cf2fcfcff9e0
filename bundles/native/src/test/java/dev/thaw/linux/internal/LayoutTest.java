package dev.thaw.linux.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.thaw.linux.Errno;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Userfaultfd;
import dev.thaw.linux.kvm.KvmConstants;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C program against the kernel headers that prints the size and offset of every struct
 * member the Java layouts model ({@link Structs#ALL}, walked recursively) and the value of every
 * ioctl number and constant (public static final fields named as C macros), and compares all of them
 * with the Java side. The C source is generated from the Java lists, so nothing modelled goes unchecked.
 */
class LayoutTest {

    /** Classes whose public static final int/long fields are C macros of the same name. */
    private static final List<Class<?>> CONSTANT_CLASSES =
            List.of(Ioctls.class, KvmConstants.class, Errno.class, Libc.class, Userfaultfd.class);

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
            #include <sys/syscall.h>
            #include <sys/eventfd.h>
            #include <linux/kvm.h>
            #include <linux/userfaultfd.h>
            """;

    @TempDir
    Path dir;

    @Test
    void everyModelledStructMemberAndConstantMatchesTheKernelHeaders() throws Exception {
        Path gcc = findGcc();
        Map<String, Long> expected = new LinkedHashMap<>();
        StringBuilder body = new StringBuilder();
        for (StructLayout layout : Structs.ALL) {
            String type = layout.name().orElseThrow(() -> new AssertionError("unnamed top-level layout " + layout));
            put(expected, body, type + " sizeof", layout.byteSize(), "sizeof(" + type + ")");
            walk(type, "", layout, 0, expected, body);
        }
        int constants = 0;
        for (Class<?> c : CONSTANT_CLASSES) {
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (!Modifier.isPublic(m) || !Modifier.isStatic(m) || !Modifier.isFinal(m)) {
                    continue;
                }
                if (f.getType() != int.class && f.getType() != long.class) {
                    continue;
                }
                long value = ((Number) f.get(null)).longValue();
                put(expected, body, "const " + f.getName(), value, "(" + f.getName() + ")");
                constants++;
            }
        }
        assertTrue(constants > 100, "expected the ioctl and constant tables, found " + constants + " constants");

        Path source = dir.resolve("layouts.c");
        Files.writeString(source, HEADERS + "int main(void) {\n" + body + "    return 0;\n}\n");
        Path binary = dir.resolve("layouts");
        String compileOutput = run(List.of(gcc.toString(), "-Wall", "-o", binary.toString(), source.toString()));
        Map<String, Long> actual = new TreeMap<>();
        for (String line : run(List.of(binary.toString())).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            int eq = line.lastIndexOf('=');
            actual.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1)));
        }
        List<String> mismatches = new ArrayList<>();
        expected.forEach((key, value) -> {
            Long c = actual.get(key);
            if (c == null || c.longValue() != value) {
                mismatches.add(key + ": Java " + value + ", C " + c);
            }
        });
        assertEquals(List.of(), mismatches, "Java layouts/constants differ from the kernel headers"
                + (compileOutput.isBlank() ? "" : "\ngcc said: " + compileOutput));
        assertEquals(expected.size(), actual.size(), "every generated check printed once");
    }

    private static void walk(String type, String path, GroupLayout group, long base, Map<String, Long> expected,
            StringBuilder body) {
        long offset = 0;
        for (MemoryLayout member : group.memberLayouts()) {
            long memberOffset = base + (group instanceof StructLayout ? offset : 0);
            if (group instanceof StructLayout) {
                offset += member.byteSize();
            }
            if (member instanceof PaddingLayout) {
                continue;
            }
            if (member.name().isEmpty()) {
                // An anonymous C struct or union: its members are named directly.
                walk(type, path, (GroupLayout) member, memberOffset, expected, body);
                continue;
            }
            String memberPath = path.isEmpty() ? member.name().get() : path + "." + member.name().get();
            put(expected, body, type + " offsetof " + memberPath, memberOffset,
                    "offsetof(" + type + ", " + memberPath + ")");
            put(expected, body, type + " sizeof " + memberPath, member.byteSize(),
                    "sizeof(((" + type + " *)0)->" + memberPath + ")");
            if (member instanceof GroupLayout g) {
                walk(type, memberPath, g, memberOffset, expected, body);
            } else if (member instanceof SequenceLayout seq && seq.elementLayout() instanceof GroupLayout g) {
                String first = memberPath + "[0]";
                put(expected, body, type + " sizeof " + first, g.byteSize(), "sizeof(((" + type + " *)0)->" + first + ")");
                walk(type, first, g, memberOffset, expected, body);
            }
        }
    }

    private static void put(Map<String, Long> expected, StringBuilder body, String key, long value, String cExpression) {
        if (expected.put(key, value) != null) {
            fail("checked twice: " + key);
        }
        body.append("    printf(\"%s=%lld\\n\", \"").append(key).append("\", (long long)").append(cExpression).append(");\n");
    }

    private static Path findGcc() {
        for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path candidate = Path.of(p, "gcc");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        if ("1".equals(System.getenv("THAW_REQUIRE_KVM"))) {
            fail("gcc is not on PATH, and THAW_REQUIRE_KVM=1 says the layout test must run");
        }
        Assumptions.abort("gcc is not on PATH: layout test skipped");
        return null;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + command);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            fail(command.getFirst() + " exited with " + p.exitValue() + ":\n" + text);
        }
        return text;
    }
}

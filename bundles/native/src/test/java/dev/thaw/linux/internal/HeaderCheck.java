package dev.thaw.linux.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

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

/**
 * Checks Java struct layouts and constants against C headers: generates a C program that prints the size
 * and offset of every named member of the layouts given (walked recursively) and the value of every
 * constant (public static final int/long fields named as C macros or enum members), compiles it against
 * the headers with gcc, runs it and compares everything with the Java side.
 */
public final class HeaderCheck {

    private final String headers;
    private final Map<String, Long> expected = new LinkedHashMap<>();
    private final StringBuilder body = new StringBuilder();

    /** @param headers the C program's preamble: its {@code #define}s and {@code #include}s */
    public HeaderCheck(String headers) {
        this.headers = headers;
    }

    /** Checks {@code layout}'s size and each named member's offset and size; the layout's name is its C type. */
    public void struct(StructLayout layout) {
        String type = layout.name().orElseThrow(() -> new AssertionError("unnamed top-level layout " + layout));
        put(expected, body, type + " sizeof", layout.byteSize(), "sizeof(" + type + ")");
        walk(type, "", layout, 0, expected, body);
    }

    /** Checks {@code c}'s public static final int and long fields as C constants of the same name; returns how many. */
    public int constants(Class<?> c) throws IllegalAccessException {
        int constants = 0;
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
        return constants;
    }

    /** Compiles and runs the program in {@code dir}; fails listing every value that differs from the {@code headers}. */
    public void assertMatches(Path dir, String headersName) throws IOException, InterruptedException {
        Path gcc = findGcc();
        Path source = dir.resolve("layouts.c");
        Files.writeString(source, headers + "int main(void) {\n" + body + "    return 0;\n}\n");
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
        assertEquals(List.of(), mismatches, "Java layouts/constants differ from " + headersName
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

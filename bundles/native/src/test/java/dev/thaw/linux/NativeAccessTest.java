package dev.thaw.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A JVM that refuses native access gets an error naming the flag to add, not a bare IllegalCallerException. */
class NativeAccessTest {

    /** Run in the child JVM: touches libc and reports how that went. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                System.out.println("pid " + Libc.getpid());
                System.exit(0);
            } catch (Throwable t) {
                for (Throwable c = t; c != null; c = c.getCause()) {
                    if (c instanceof NativeAccessDeniedException) {
                        System.out.println(c.getMessage());
                        System.exit(3);
                    }
                }
                t.printStackTrace(System.out);
                System.exit(4);
            }
        }
    }

    @Test
    void refusedNativeAccessNamesTheMissingFlag() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--illegal-native-access=deny", "-cp",
                System.getProperty("java.class.path"), Probe.class.getName())).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, p.exitValue(), out);
        assertTrue(out.contains("--enable-native-access=ALL-UNNAMED"), out);
    }
}

package dev.thaw.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Starts Thaw's Felix platform and either opens the interactive Gogo shell or runs Gogo commands and
 * exits with their status.
 *
 * <pre>
 * thaw shell                 interactive shell
 * thaw -c "cmd; cmd"         run commands
 * thaw script.gosh [args]    run a script file
 * thaw thaw:vms [args]       run one command
 * </pre>
 */
public final class Main {

    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (LaunchException e) {
            System.err.println("thaw: " + e.getMessage());
            status = EXIT_FAILED;
        }
        System.out.flush();
        System.exit(status);
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.err.println("""
                    usage: thaw shell                 the interactive Gogo shell
                           thaw -c "cmd; cmd"         run Gogo commands
                           thaw FILE.gosh [ARGS]      run a Gogo script
                           thaw thaw:COMMAND [ARGS]   run one command (e.g. thaw thaw:vms)""");
            return args.length == 0 ? EXIT_USAGE : 0;
        }
        Path home = Path.of(System.getProperty("thaw.home", ".")).toAbsolutePath().normalize();
        if (args[0].equals("shell")) {
            try (Platform platform = Platform.start(home, true)) {
                platform.awaitShutdown();
                return 0;
            }
        }
        Script script = script(args);
        try (Platform platform = Platform.start(home, false)) {
            return platform.commands().execute(script);
        }
    }

    /** The Gogo text to run for the non-interactive forms. */
    static Script script(String[] args) {
        if (args[0].equals("-c")) {
            if (args.length != 2) {
                throw new LaunchException("-c takes one argument: the commands, quoted");
            }
            return new Script(args[1], List.of());
        }
        Path file = Path.of(args[0]);
        if (!args[0].contains(":") && (args[0].endsWith(".gosh") || Files.isRegularFile(file))) {
            try {
                return new Script(Files.readString(file, StandardCharsets.UTF_8), Arrays.asList(args).subList(1, args.length));
            } catch (IOException e) {
                throw new LaunchException("cannot read script " + file + ": " + e.getMessage());
            }
        }
        return new Script(String.join(" ", Arrays.stream(args).map(Main::quote).toList()), List.of());
    }

    /** Quotes a shell word for Gogo when it needs it. */
    static String quote(String word) {
        if (!word.isEmpty() && word.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_.:/=+,@%".indexOf(c) >= 0)) {
            return word;
        }
        return '"' + word.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$") + '"';
    }
}

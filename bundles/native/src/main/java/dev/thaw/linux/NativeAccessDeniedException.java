package dev.thaw.linux;

/** The JVM refused this code native access; the message names the command-line flag that is missing. */
public final class NativeAccessDeniedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public NativeAccessDeniedException(Module module, Throwable cause) {
        super("native access refused for " + describe(module) + ": start the JVM with "
                + flag(module) + " (OSGi bundles and class-path code are unnamed modules)", cause);
    }

    /** The {@code --enable-native-access} flag that grants {@code module} native access. */
    public static String flag(Module module) {
        return "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
    }

    private static String describe(Module module) {
        return module.isNamed() ? "module " + module.getName() : "the unnamed module";
    }
}

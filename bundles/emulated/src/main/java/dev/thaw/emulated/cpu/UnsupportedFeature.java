package dev.thaw.emulated.cpu;

/**
 * A guest asked for something this interpreter does not model (task switches, virtual-8086 mode, call
 * gates): the run stops with {@link StopReason.Kind#SHUTDOWN} and this message as the reason, rather than
 * silently doing something else.
 */
final class UnsupportedFeature extends RuntimeException {

    UnsupportedFeature(String what) {
        super("unsupported: " + what, null, false, false);
    }
}

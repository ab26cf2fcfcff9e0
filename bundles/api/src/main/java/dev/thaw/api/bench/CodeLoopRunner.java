package dev.thaw.api.bench;

import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs a loop of x86-64 machine code on some CPU model, alone: no VM, no devices, no interrupts. The code
 * runs at CPL 3 in 64-bit mode with flat segments over the request's memory (guest physical = guest
 * virtual = offset in the memory), from its first byte until RIP reaches the byte after it, and the
 * runner reports the registers, the instructions it executed and the time it took. What
 * {@code thaw:bench cpu} compares the emulated vCPU with Unicorn on.
 *
 * <p>Registered as a service with {@link #NAME_PROPERTY} set to {@link #name()}; the emulated runtime's
 * bundle registers {@code emulated}, its x86-64 interpreter.
 */
@ProviderType
public interface CodeLoopRunner {

    /** The service property naming a runner. */
    String NAME_PROPERTY = "thaw.loop.runner";

    /** Letters, digits and {@code -}: {@code emulated}, {@code unicorn}. */
    String name();

    /** One line: what runs the code, and how it is set up (paging, CPL, how it counts). */
    String description();

    /** Empty when it can run here; else one line saying why not (a library that is not installed, say). */
    Optional<String> unavailableReason();

    /**
     * Runs {@code request}'s code once, on the calling thread.
     *
     * @throws IllegalStateException when the code does not reach its end (an exception, an undefined
     *     instruction); the message says where it stopped and why
     */
    LoopRun run(LoopRequest request);
}

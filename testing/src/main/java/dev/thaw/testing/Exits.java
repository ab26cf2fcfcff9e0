package dev.thaw.testing;

import dev.thaw.api.runtime.ExitListener;
import dev.thaw.api.runtime.VmExit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** An {@link ExitListener} that collects what it hears: each exit, and the name of the thread that reported it. */
public final class Exits implements ExitListener {

    public final List<VmExit> exits = new CopyOnWriteArrayList<>();
    public final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public void vmExited(VmExit exit) {
        exits.add(exit);
        threads.add(Thread.currentThread().getName());
    }
}

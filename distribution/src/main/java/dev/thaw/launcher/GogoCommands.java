package dev.thaw.launcher;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Runs Gogo text in a new command session and turns its outcome into an exit status. The launcher
 * lives outside OSGi, so Gogo's types are reached through the service's own class loader; these few
 * methods of {@code CommandProcessor} and {@code CommandSession} are Gogo's stable API.
 */
final class GogoCommands {

    static final String PROCESSOR = "org.apache.felix.service.command.CommandProcessor";
    static final String SESSION = "org.apache.felix.service.command.CommandSession";
    /** {@code Converter.INSPECT}: format a result the way the interactive shell shows it. */
    static final int INSPECT = 0;

    private final BundleContext context;

    GogoCommands(BundleContext context) {
        this.context = context;
    }

    /** Runs {@code script}; prints its result, or its failure as one line on stderr. Returns the exit status. */
    int execute(Script script) {
        ServiceReference<?> ref = context.getServiceReference(PROCESSOR);
        if (ref == null) {
            throw new LaunchException("the Gogo command processor is not running");
        }
        Object processor = context.getService(ref);
        // The process's own stdout/stderr: Gogo replaces System.out with a per-thread router.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        InputStream in = new FileInputStream(FileDescriptor.in);
        try {
            Class<?> processorType = ref.getBundle().loadClass(PROCESSOR);
            Class<?> sessionType = ref.getBundle().loadClass(SESSION);
            Object session = processorType.getMethod("createSession", InputStream.class, OutputStream.class, OutputStream.class)
                    .invoke(processor, in, out, err);
            try {
                Method put = sessionType.getMethod("put", String.class, Object.class);
                for (int i = 0; i < script.args().size(); i++) {
                    put.invoke(session, Integer.toString(i + 1), script.args().get(i));
                }
                put.invoke(session, "argv", script.args());
                Object result = sessionType.getMethod("execute", CharSequence.class).invoke(session, script.text());
                if (result != null) {
                    out.println(sessionType.getMethod("format", Object.class, int.class).invoke(session, result, INSPECT));
                }
                return 0;
            } finally {
                sessionType.getMethod("close").invoke(session);
            }
        } catch (InvocationTargetException e) {
            err.println("thaw: " + oneLine(e.getCause()));
            return Main.EXIT_FAILED;
        } catch (ReflectiveOperationException e) {
            throw new LaunchException("this Gogo runtime does not offer the expected API: " + e, e);
        } finally {
            out.flush();
            context.ungetService(ref);
        }
    }

    /** The message a user should see: the innermost cause that says something. */
    static String oneLine(Throwable t) {
        Throwable shown = t;
        while ((shown instanceof InvocationTargetException || shown.getMessage() == null) && shown.getCause() != null) {
            shown = shown.getCause();
        }
        String message = shown.getMessage() == null ? shown.getClass().getSimpleName() : shown.getMessage();
        return message.strip().replace('\n', ' ');
    }
}

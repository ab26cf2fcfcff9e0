package dev.thaw.launcher;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends the Felix framework's own log to SLF4J, so it lands in the log file and not on stdout. */
final class FrameworkLog extends org.apache.felix.framework.Logger {

    private final Logger log = LoggerFactory.getLogger("org.apache.felix.framework");

    @Override
    protected void doLogOut(int level, String text, Throwable throwable) {
        switch (level) {
            case LOG_ERROR -> log.error(text, throwable);
            case LOG_WARNING -> log.warn(text, throwable);
            case LOG_INFO -> log.info(text, throwable);
            default -> log.debug(text, throwable);
        }
    }
}

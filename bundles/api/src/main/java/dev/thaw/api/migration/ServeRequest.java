package dev.thaw.api.migration;

import java.nio.file.Path;
import java.util.Map;

/**
 * What to serve, to whom, in which order.
 *
 * @param file a QEMU mapped-ram file
 * @param offset the byte of {@code file} the snapshot starts at (QEMU's {@code file:PATH,offset=N}), else 0
 * @param destination the incoming QEMU's address, as its {@code -incoming} names it: {@code unix:PATH} or
 *     {@code tcp:HOST:PORT}; it listens, Thaw connects
 * @param policy the name of the installed page policy that orders the pages not asked for
 * @param parameters what the policy's session reads from {@code RestoreView.parameters()}
 */
public record ServeRequest(Path file, long offset, String destination, String policy, Map<String, Object> parameters) {

    public ServeRequest {
        parameters = Map.copyOf(parameters);
    }
}

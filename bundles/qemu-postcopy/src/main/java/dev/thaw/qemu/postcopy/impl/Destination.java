package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.restore.RestoreException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An incoming QEMU's address as its {@code -incoming} names it, {@code unix:PATH} or {@code tcp:HOST:PORT}: the
 * destination listens there and the source connects (docs/qemu-postcopy.md 12.1).
 */
record Destination(String text, SocketAddress address) {

    /** How long a TCP connect may take before the address is called unreachable. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** @throws IllegalArgumentException for an address of neither form */
    static Destination parse(String text) {
        if (text.startsWith("unix:") && text.length() > "unix:".length()) {
            return new Destination(text, UnixDomainSocketAddress.of(Path.of(text.substring("unix:".length()))));
        }
        if (text.startsWith("tcp:")) {
            String rest = text.substring("tcp:".length());
            int colon = rest.lastIndexOf(':');
            if (colon > 0) {
                String host = rest.substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1); // an IPv6 literal, as QEMU writes it
                }
                int port = -1;
                try {
                    port = Integer.parseInt(rest.substring(colon + 1));
                } catch (NumberFormatException e) {
                    // refused below
                }
                if (port > 0 && port < 65536 && !host.isEmpty()) {
                    return new Destination(text, InetSocketAddress.createUnresolved(host, port));
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a destination address: unix:PATH or tcp:HOST:PORT, as "
                + "the incoming QEMU's -incoming names it");
    }

    /**
     * A blocking socket connected to the destination.
     *
     * @throws RestoreException naming the address and why nobody answered there
     */
    SocketChannel connect(Path file) {
        SocketChannel channel = null;
        try {
            if (address instanceof InetSocketAddress inet) {
                channel = SocketChannel.open();
                InetSocketAddress resolved = new InetSocketAddress(inet.getHostString(), inet.getPort());
                if (resolved.isUnresolved()) {
                    throw new IOException("unknown host " + inet.getHostString());
                }
                channel.socket().connect(resolved, (int) CONNECT_TIMEOUT.toMillis());
            } else {
                channel = SocketChannel.open(address);
            }
            return channel;
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new RestoreException("cannot serve " + file + " to " + text + ": " + e.getMessage() + " (is an incoming "
                    + "QEMU listening there, started with -incoming " + text + "?)", e);
        }
    }
}

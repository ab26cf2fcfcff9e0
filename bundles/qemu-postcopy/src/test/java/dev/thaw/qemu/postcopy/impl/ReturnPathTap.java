package dev.thaw.qemu.postcopy.impl;

import dev.thaw.qemu.postcopy.impl.ReturnPathReader.Message;
import dev.thaw.qemu.postcopy.impl.ReturnPathReader.PageRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A unix socket between a source and an incoming QEMU that passes both directions through unchanged and keeps
 * what QEMU sent back: its page requests, as it made them, for a test to compare with what the source did.
 */
final class ReturnPathTap implements AutoCloseable {

    private final ServerSocketChannel server;
    private final Path socket;
    private final Path destination;
    private final ByteArrayOutputStream returned = new ByteArrayOutputStream();
    private final Thread accepting;
    private final List<Thread> pumps = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> channels = new CopyOnWriteArrayList<>();

    /** Listens on {@code socket}; the one connection made there is joined to {@code destination}. */
    ReturnPathTap(Path socket, Path destination) throws IOException {
        this.socket = socket;
        this.destination = destination;
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        this.accepting = Thread.ofPlatform().name("test-tap-accept").start(this::accept);
    }

    Path socket() {
        return socket;
    }

    private void accept() {
        try {
            SocketChannel source = server.accept();
            SocketChannel qemu = SocketChannel.open(UnixDomainSocketAddress.of(destination));
            channels.add(source);
            channels.add(qemu);
            pumps.add(Thread.ofPlatform().name("test-tap-forward").start(() -> pump(source, qemu, false)));
            pumps.add(Thread.ofPlatform().name("test-tap-return").start(() -> pump(qemu, source, true)));
        } catch (IOException e) {
            // closed before a source connected
        }
    }

    private void pump(SocketChannel from, SocketChannel to, boolean keep) {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(b) >= 0) {
                b.flip();
                if (keep) {
                    synchronized (returned) {
                        returned.write(b.array(), 0, b.limit());
                    }
                }
                while (b.hasRemaining()) {
                    to.write(b);
                }
                b.clear();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // one side went away: the other notices on its own
        }
    }

    /** The page requests QEMU sent so far, in its order. */
    List<PageRequest> requests() throws IOException {
        byte[] bytes;
        synchronized (returned) {
            bytes = returned.toByteArray();
        }
        ReturnPathReader in = new ReturnPathReader(Channels.newChannel(new ByteArrayInputStream(bytes)));
        List<PageRequest> requests = new ArrayList<>();
        for (Message m; (m = in.next()) != null; ) {
            if (m instanceof PageRequest r) {
                requests.add(r);
            }
        }
        return requests;
    }

    @Override
    public void close() throws IOException {
        server.close();
        join(accepting);
        for (SocketChannel c : channels) {
            c.close();
        }
        pumps.forEach(ReturnPathTap::join);
        Files.deleteIfExists(socket);
    }

    private static void join(Thread t) {
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.thaw.qemu.postcopy.impl;

import dev.thaw.format.qemu.MigrationStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The receiving end of a postcopy stream for tests of what goes over the wire, which QEMU does not report: it
 * decodes every record the source sends (docs/qemu-postcopy.md), keeps each page record in order, and answers
 * on the return path as a script says; SHUT 0 after EOF. QEMU itself is the destination in PostcopyQemuTest.
 */
final class RecordingDestination implements AutoCloseable {

    /** One page record: block, page within it, and its bytes (null for a ZERO record). */
    record PageRecord(String block, long page, byte[] data) {}

    /** What the script sees and says at each point of the stream. */
    interface Script {
        /** The package was read; return-path bytes to send now, if any. */
        default byte[] afterPackage(RecordingDestination d) {
            return new byte[0];
        }

        /** A page record was read; return-path bytes to send now, if any. */
        default byte[] afterPage(RecordingDestination d, PageRecord r) {
            return new byte[0];
        }
    }

    private final ServerSocketChannel server;
    private final Path socket;
    private final Script script;
    private final List<PageRecord> records = new ArrayList<>();
    /** How many page records came before the package; -1 until it came. */
    private volatile int recordsBeforePackage = -1;
    /** The PINGs read after the package, in order. */
    final List<Integer> pings = new CopyOnWriteArrayList<>();
    private final List<Integer> heldPongs = new ArrayList<>(); // guarded by itself, as is answerPings
    private boolean answerPings = true;
    final Map<String, Long> blocks = new LinkedHashMap<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile SocketChannel channel;
    private String lastBlock;
    private final Thread thread;

    RecordingDestination(Path dir, Script script) throws IOException {
        this.socket = dir.resolve("recording.sock");
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        this.script = script;
        this.thread = Thread.ofPlatform().name("test-destination").start(this::run);
    }

    Path socket() {
        return socket;
    }

    /** A source's end, connected. */
    SocketChannel connect() throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socket));
    }

    /** Completes once EOF was read and SHUT 0 sent; exceptionally if the stream broke. */
    CompletableFuture<Void> done() {
        return done;
    }

    synchronized List<PageRecord> records() {
        return List.copyOf(records);
    }

    /** The page records that came before the package (loaded by the destination before its devices); -1 before it came. */
    int recordsBeforePackage() {
        return recordsBeforePackage;
    }

    /** Closes its end now (a destination that hangs up). */
    void hangUp() throws IOException {
        SocketChannel c = channel;
        if (c != null) {
            c.close();
        }
    }

    private void run() {
        try (SocketChannel c = server.accept()) {
            channel = c;
            DataInputStream in = new DataInputStream(Channels.newInputStream(c));
            expect(in.readInt() == MigrationStream.MAGIC && in.readInt() == MigrationStream.VERSION, "header");
            expect(in.read() == MigrationStream.CONFIGURATION, "configuration");
            in.readNBytes(in.readInt());
            int type = in.read();
            while (type == MigrationStream.SUBSECTION) {
                String name = str8(in);
                in.readInt();
                if (name.equals(MigrationStream.CAPABILITIES_SUBSECTION)) {
                    for (int n = in.readInt(); n > 0; n--) {
                        str8(in);
                    }
                } else {
                    in.readNBytes(16);
                }
                type = in.read();
            }
            while (type != MigrationStream.SECTION_EOF) {
                switch (type) {
                    case MigrationStream.COMMAND -> {
                        int cmd = in.readUnsignedShort();
                        byte[] body = in.readNBytes(in.readUnsignedShort());
                        if (cmd == Protocol.CMD_PACKAGED) {
                            recordsBeforePackage = records().size();
                            in.readNBytes(ByteBuffer.wrap(body).getInt());
                            send(script.afterPackage(this));
                        } else if (cmd == Protocol.CMD_PING) { // answered as read, as QEMU's listen thread does
                            int value = ByteBuffer.wrap(body).getInt();
                            pings.add(value);
                            boolean held;
                            synchronized (heldPongs) {
                                held = !answerPings && heldPongs.add(value);
                            }
                            if (!held) {
                                send(pong(value));
                            }
                        }
                    }
                    case MigrationStream.SECTION_START -> {
                        int sid = in.readInt();
                        expect(str8(in).equals("ram") && in.readInt() == 0 && in.readInt() == Protocol.RAM_VERSION, "ram START");
                        long total = in.readLong() & ~0xfffL;
                        for (long sum = 0; sum < total; ) {
                            String name = str8(in);
                            long used = in.readLong();
                            blocks.put(name, used);
                            sum += used;
                        }
                        expect(in.readLong() == MigrationStream.RAM_EOS, "EOS");
                        footer(in, sid);
                    }
                    case MigrationStream.SECTION_PART, MigrationStream.SECTION_END -> {
                        int sid = in.readInt();
                        records(in);
                        footer(in, sid);
                    }
                    default -> throw new IOException("unexpected record type " + type);
                }
                type = in.read();
            }
            send(ByteBuffer.allocate(8).putShort((short) Protocol.RP_SHUT).putShort((short) 4).putInt(0).array());
            done.complete(null);
        } catch (IOException | RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    private void records(DataInputStream in) throws IOException {
        while (true) {
            long word = in.readLong();
            long flags = word & 0xfff;
            if (flags == MigrationStream.RAM_EOS) {
                return;
            }
            if ((flags & MigrationStream.RAM_CONTINUE) == 0) {
                lastBlock = str8(in);
            }
            byte[] data = null;
            if ((flags & ~MigrationStream.RAM_CONTINUE) == MigrationStream.RAM_ZERO) {
                expect(in.read() == 0, "zero fill byte");
            } else {
                expect((flags & ~MigrationStream.RAM_CONTINUE) == MigrationStream.RAM_PAGE, "PAGE or ZERO, not flags " + flags);
                data = in.readNBytes(Protocol.PAGE_SIZE);
            }
            PageRecord r = new PageRecord(lastBlock, (word & ~0xfffL) / Protocol.PAGE_SIZE, data);
            synchronized (this) {
                records.add(r);
            }
            send(script.afterPage(this, r));
        }
    }

    /** From now on PINGs are read but not answered (a destination that falls behind), until {@link #answerPings}. */
    void holdPongs() {
        synchronized (heldPongs) {
            answerPings = false;
        }
    }

    /** Answers the PINGs held, and every PING from now on. */
    void answerPings() throws IOException {
        List<Integer> held;
        synchronized (heldPongs) {
            answerPings = true;
            held = List.copyOf(heldPongs);
            heldPongs.clear();
        }
        for (int value : held) {
            send(pong(value));
        }
    }

    /** Sends {@code bytes} on the return path now (from the test's thread). */
    void sendNow(byte[] bytes) throws IOException {
        send(bytes);
    }

    private static byte[] pong(int value) {
        return ByteBuffer.allocate(8).putShort((short) Protocol.RP_PONG).putShort((short) 4).putInt(value).array();
    }

    /** The PONG QEMU's main thread sends as it reaches the package's last PING: its device state is loaded. */
    static byte[] devicesLoaded() {
        return pong(Preamble.PING_DEVICES_LOADED);
    }

    /** A REQ_PAGES_ID for page {@code page} of {@code block}. */
    static byte[] request(String block, long page) {
        byte[] name = block.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(4 + 13 + name.length).putShort((short) Protocol.RP_REQ_PAGES_ID)
                .putShort((short) (13 + name.length)).putLong(page * Protocol.PAGE_SIZE).putInt(Protocol.PAGE_SIZE)
                .put((byte) name.length).put(name).array();
    }

    static byte[] shut(int status) {
        return ByteBuffer.allocate(8).putShort((short) Protocol.RP_SHUT).putShort((short) 4).putInt(status).array();
    }

    private synchronized void send(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private static void footer(DataInputStream in, int sid) throws IOException {
        expect(in.read() == MigrationStream.FOOTER && in.readInt() == sid, "footer of section " + sid);
    }

    private static String str8(DataInputStream in) throws IOException {
        int n = in.read();
        if (n < 0) {
            throw new EOFException();
        }
        return new String(in.readNBytes(n), StandardCharsets.US_ASCII);
    }

    private static void expect(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException("bad " + what);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        hangUp();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(socket);
    }

}

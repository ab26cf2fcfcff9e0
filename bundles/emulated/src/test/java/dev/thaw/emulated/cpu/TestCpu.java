package dev.thaw.emulated.cpu;

import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A single interpreter over a few MiB of anonymous memory for unit tests, with direct access to its
 * registers. Starts in 64-bit mode at CPL 0 with flat segments and an identity map (1 GiB pages; page
 * tables at 0x1000) unless a test sets up something else.
 */
final class TestCpu implements AutoCloseable {

    static final long CODE = 0x10000;

    final Mapping ram;
    final MemorySegment mem;
    final PhysicalMemory memory;
    final Interpreter cpu;
    final Cpu c;
    final StringBuilder ports = new StringBuilder();
    final Map<Long, Long> mmio = new ConcurrentHashMap<>();
    final TestIrq irq = new TestIrq();

    TestCpu(long ramBytes, boolean reportExceptions) {
        ram = Mapping.anonymous(ramBytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_NORESERVE);
        mem = ram.segment();
        memory = new PhysicalMemory(List.of(new PhysicalMemory.RamRegion(0, ramBytes, mem, ram.address())),
                (a, w) -> Libc.madvise(a, 4096, w ? Libc.MADV_POPULATE_WRITE : Libc.MADV_POPULATE_READ));
        cpu = new Interpreter(memory, new CpuBus() {
            @Override
            public long portRead(int port, int size) {
                ports.append("in ").append(Integer.toHexString(port)).append('/').append(size).append('\n');
                return 0x1234_5678L & Cpu.mask(size);
            }

            @Override
            public void portWrite(int port, int size, long value) {
                ports.append("out ").append(Integer.toHexString(port)).append('/').append(size).append('=')
                        .append(Long.toHexString(value)).append('\n');
            }

            @Override
            public long mmioRead(long address, int size) {
                return mmio.getOrDefault(address, 0L);
            }

            @Override
            public void mmioWrite(long address, int size, long value) {
                mmio.put(address, value);
            }
        }, irq, 0, new Interpreter.Options(1, reportExceptions));
        c = cpu.c;
        long cr3 = FlatLongMode.identityMap(memory, 0x1000, ramBytes);
        FlatLongMode.enter(cpu, 0, cr3, CODE, 0x8000);
    }

    TestCpu() {
        this(4 << 20, true);
    }

    /** Writes {@code bytes} at {@code address}. */
    void put(long address, int... bytes) {
        for (int k = 0; k < bytes.length; k++) {
            mem.set(ValueLayout.JAVA_BYTE, address + k, (byte) bytes[k]);
        }
    }

    void put64(long address, long v) {
        mem.set(ValueLayout.JAVA_LONG_UNALIGNED, address, v);
    }

    long get64(long address) {
        return mem.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
    }

    /** Places {@code code} at {@link #CODE}, sets RIP there and runs {@code n} instructions. */
    StopReason exec(int n, int... code) {
        put(CODE, code);
        c.rip = CODE;
        cpu.halted = false;
        return cpu.run(n);
    }

    @Override
    public void close() {
        ram.close();
    }

    static final class TestIrq implements InterruptSource {
        volatile int pending = -1;
        volatile boolean nmi;
        int tpr;
        long apicBase = DEFAULT_APIC_BASE;
        final StringBuilder log = new StringBuilder();

        @Override
        public int pendingVector() {
            return pending;
        }

        @Override
        public void acknowledge(int vector) {
            log.append("ack ").append(vector).append('\n');
            pending = -1;
        }

        @Override
        public int taskPriority() {
            return tpr;
        }

        @Override
        public void setTaskPriority(int cr8) {
            tpr = cr8;
        }

        @Override
        public boolean takeNmi() {
            boolean was = nmi;
            nmi = false;
            return was;
        }

        @Override
        public long apicBaseMsr() {
            return apicBase;
        }

        /** Refuses x2APIC mode, as the runtime's local APIC does. */
        @Override
        public boolean setApicBaseMsr(long value) {
            if ((value & 0x400) != 0) {
                return false;
            }
            apicBase = value;
            return true;
        }
    }
}

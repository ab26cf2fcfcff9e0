package dev.thaw.emulated.cpu;

import dev.thaw.api.state.DescriptorTable;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Segment;
import dev.thaw.api.state.Sregs;
import dev.thaw.linux.Libc;
import dev.thaw.linux.Mapping;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A minimal machine around {@link Interpreter}s for the Thaw test guest (guest/README.md): RAM region 0 =
 * [0, size) anonymous memory, the image at 0x100000, the boot parameters page at 0x7000, a UART that
 * collects THR writes and serves bytes given to {@link #input}, the debug-exit port 0x501, LAPIC and
 * IOAPIC pages that store and return values, and interrupt sources: the BSP's raises the UART's vector
 * 0x24 while received bytes wait (until the guest's EOI), the APs' never have anything pending.
 */
final class GuestHarness implements AutoCloseable {

    static final long IMAGE = 0x100000;
    static final long BOOT_PARAMS = 0x7000;

    final Mapping ram;
    final PhysicalMemory memory;
    final List<Interpreter> cpus = new ArrayList<>();
    final StringBuffer console = new StringBuffer();
    volatile int exitCode = -1;
    private final Map<Long, Long> mmio = new ConcurrentHashMap<>();
    private final Bus bus = new Bus();
    private final UartInterrupt bspIrq = new UartInterrupt();
    private final InterruptSource irq = new NoInterrupts();
    private final java.util.concurrent.ConcurrentLinkedQueue<Byte> rx = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final int vcpus;

    GuestHarness(long ramBytes, int vcpus, long workload, long seed, long workingSet) throws IOException {
        this(ramBytes, vcpus, workload, seed, workingSet, 0);
    }

    /** With the function workload's resident set ({@code 0}: its working set alone). */
    GuestHarness(long ramBytes, int vcpus, long workload, long seed, long workingSet, long residentBytes) throws IOException {
        this(ramBytes, vcpus, workload, seed, workingSet, residentBytes, 0);
    }

    /**
     * With the function workload's resident set and write percent ({@code 0}: as in a boot page from before the field,
     * every page read is written).
     */
    GuestHarness(long ramBytes, int vcpus, long workload, long seed, long workingSet, long residentBytes, long writePercent)
            throws IOException {
        ram = Mapping.anonymous(ramBytes, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_NORESERVE);
        PageToucher toucher = (address, write) -> Libc.madvise(address, 4096,
                write ? Libc.MADV_POPULATE_WRITE : Libc.MADV_POPULATE_READ);
        memory = new PhysicalMemory(List.of(new PhysicalMemory.RamRegion(0, ramBytes, ram.segment(), ram.address())),
                toucher);
        byte[] image = Files.readAllBytes(imagePath());
        MemorySegment.copy(MemorySegment.ofArray(image), 0, ram.segment(), IMAGE, image.length);
        MemorySegment p = ram.segment().asSlice(BOOT_PARAMS, 4096);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x00, 0x544F4F4257414854L);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x08, 1);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x10, vcpus);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x18, workload);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x20, seed);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x28, workingSet);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x40, 1);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x48, 0);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x50, ramBytes);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x88, 0);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x90, residentBytes);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x98, writePercent);
        this.vcpus = vcpus;
        for (int i = 0; i < vcpus; i++) {
            Interpreter cpu = newCpu(i);
            cpu.importState(entryState(cpu, i));
            cpus.add(cpu);
        }
    }

    Interpreter newCpu(int index) {
        return new Interpreter(memory, bus, index == 0 ? bspIrq : irq, index, new Interpreter.Options(vcpus, false));
    }

    /** Replaces vCPU {@code index} by a fresh interpreter that imports the old one's exported state. */
    Interpreter restoreInto(int index) {
        CpuState s = cpus.get(index).exportState();
        Interpreter fresh = newCpu(index);
        fresh.importState(s);
        cpus.set(index, fresh);
        return fresh;
    }

    static Path imagePath() {
        String root = System.getenv("THAW_SOURCE_ROOT");
        Path base = root != null ? Path.of(root) : Path.of("../..");
        return base.resolve("guest/prebuilt/thaw-guest.bin");
    }

    /** The boot ABI's entry state: 32-bit protected mode, paging off, EIP 0x100000, EBX 0x7000, ESI index. */
    static CpuState entryState(Interpreter cpu, int index) {
        CpuState base = cpu.exportState();
        Segment code = new Segment(0, 0xffff_ffffL, 0x08, 0xb, 1, 0, 1, 1, 0, 1, 0, 0);
        Segment data = new Segment(0, 0xffff_ffffL, 0x10, 0x3, 1, 0, 1, 1, 0, 1, 0, 0);
        Segment tr = new Segment(0, 0xffff, 0, 0xb, 1, 0, 0, 0, 0, 0, 0, 0);
        Segment ldt = new Segment(0, 0xffff, 0, 0x2, 1, 0, 0, 0, 0, 0, 0, 0);
        Sregs sregs = new Sregs(code, data, data, data, data, data, tr, ldt, new DescriptorTable(0, 0xffff),
                new DescriptorTable(0, 0xffff), 0x11, 0, 0, 0, 0, 0, base.sregs().apicBase(),
                new long[Sregs.INTERRUPT_BITMAP_WORDS]);
        Regs regs = new Regs(0, BOOT_PARAMS, 0, 0, index, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, IMAGE, 2);
        return new CpuState(base.cpuid(), MpState.RUNNABLE, regs, sregs, base.xsave(), base.xcrs(),
                base.debugRegs(), base.msrs(), base.events());
    }

    /** Runs vCPU 0 on this thread until the guest exits (or {@code limit} instructions). */
    StopReason runSingle(long limit) {
        Interpreter cpu = cpus.get(0);
        long done = 0;
        while (true) {
            StopReason r = cpu.run(1_000_000);
            done += 1_000_000;
            if (r.kind() != StopReason.Kind.BUDGET || done >= limit) {
                return r;
            }
        }
    }

    /** Runs every vCPU on its own thread until the guest exits; returns vCPU 0's last stop. */
    StopReason runAll() throws InterruptedException {
        StopReason[] last = new StopReason[cpus.size()];
        List<Thread> threads = new ArrayList<>();
        for (int k = 0; k < cpus.size(); k++) {
            int idx = k;
            Thread t = Thread.ofPlatform().name("vcpu-" + k).start(() -> {
                Interpreter cpu = cpus.get(idx);
                while (true) {
                    StopReason r = cpu.run(1_000_000);
                    last[idx] = r;
                    if (r.kind() == StopReason.Kind.BUDGET) {
                        continue;
                    }
                    if (r.kind() == StopReason.Kind.HALTED && exitCode < 0) {
                        // nothing ever interrupts in this harness: an idle AP waits for the exit
                        synchronized (GuestHarness.this) {
                            while (exitCode < 0) {
                                try {
                                    GuestHarness.this.wait();
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        }
                    }
                    return;
                }
            });
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        return last[0];
    }

    /** Bytes arriving at the UART (the BSP takes the interrupt when it next runs). */
    void input(String text) {
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
            rx.add(b);
        }
        cpus.get(0).requestInterruptCheck();
    }

    /** Runs vCPU 0 until it stops for anything but the budget. */
    StopReason runUntilStopped() {
        StopReason r;
        do {
            r = cpus.get(0).run(1_000_000);
        } while (r.kind() == StopReason.Kind.BUDGET);
        return r;
    }

    /** Every line starting with {@code prefix}, in order. */
    java.util.List<String> lines(String prefix) {
        java.util.List<String> out = new ArrayList<>();
        for (String l : console.toString().split("\n")) {
            if (l.startsWith(prefix)) {
                out.add(l);
            }
        }
        return out;
    }

    String line(String prefix) {
        for (String l : console.toString().split("\n")) {
            if (l.startsWith(prefix)) {
                return l;
            }
        }
        return null;
    }

    @Override
    public void close() {
        ram.close();
    }

    private final class Bus implements CpuBus {
        private volatile int lcr;
        private volatile int ier;

        @Override
        public long portRead(int port, int size) {
            boolean data = !rx.isEmpty();
            return switch (port) {
                case 0x3f8 -> {
                    Byte b = (lcr & 0x80) == 0 ? rx.poll() : null;
                    yield b == null ? 0 : b & 0xff;
                }
                case 0x3fd -> 0x60 | (data ? 1 : 0); // LSR: THRE | TEMT | DR
                case 0x3fa -> data && (ier & 1) != 0 ? 0xc4 : 0xc1; // IIR: received data, or nothing
                case 0x3f9 -> ier;
                case 0x3fb -> lcr;
                default -> 0;
            };
        }

        @Override
        public void portWrite(int port, int size, long value) {
            if (port == 0x3f8 && (lcr & 0x80) == 0) {
                console.append((char) (value & 0xff));
            } else if (port == 0x3fb) {
                lcr = (int) value & 0xff;
            } else if (port == 0x3f9 && (lcr & 0x80) == 0) {
                ier = (int) value & 0xff;
            } else if (port == 0x501) {
                synchronized (GuestHarness.this) {
                    exitCode = (int) value;
                    GuestHarness.this.notifyAll();
                }
                for (Interpreter cpu : cpus) {
                    cpu.requestStop();
                }
            }
        }

        @Override
        public long mmioRead(long address, int size) {
            return mmio.getOrDefault(address, 0L);
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
            mmio.put(address, value);
            if (address == 0xfee0_00b0L) {
                bspIrq.inService = false; // EOI
            }
        }
    }

    /** The BSP's view of the UART interrupt (IOAPIC pin 4 -> vector 0x24), one in service at a time. */
    private final class UartInterrupt implements InterruptSource {
        volatile boolean inService;
        private volatile int tpr;

        @Override
        public int pendingVector() {
            return !inService && !rx.isEmpty() && (bus.ier & 1) != 0 ? 0x24 : -1;
        }

        @Override
        public void acknowledge(int vector) {
            inService = true;
        }

        @Override
        public int taskPriority() {
            return tpr;
        }

        @Override
        public void setTaskPriority(int cr8) {
            tpr = cr8;
        }
    }

    static final class NoInterrupts implements InterruptSource {
        private volatile int tpr;

        @Override
        public int pendingVector() {
            return -1;
        }

        @Override
        public void acknowledge(int vector) {
            throw new AssertionError("nothing was pending");
        }

        @Override
        public int taskPriority() {
            return tpr;
        }

        @Override
        public void setTaskPriority(int cr8) {
            tpr = cr8;
        }
    }
}

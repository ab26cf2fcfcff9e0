package dev.thaw.emulated.impl;

import dev.thaw.api.runtime.IoHandler;
import dev.thaw.emulated.cpu.CpuBus;
import dev.thaw.emulated.irq.DualPic;
import dev.thaw.emulated.irq.IoApic;
import dev.thaw.emulated.irq.LocalApic;

/**
 * What one vCPU's interpreter reaches outside RAM: its own local APIC page and the IOAPIC page (device
 * models of this runtime), the PIC ports, and everything else through the VM's {@link IoHandler}. A
 * handler that throws ends the VM: the failure is kept for the vCPU's run loop, which reports it as
 * {@code IO_HANDLER_FAILED} right after the current instruction, and the access reads as all ones.
 */
final class VcpuBus implements CpuBus {

    private static final long IOAPIC_WINDOW = 0x1000;

    private final int vcpu;
    private final LocalApic lapic;
    private final IoApic ioapic;
    private final DualPic pic;
    private final Runnable stopInterpreter;
    private volatile IoHandler handler;
    private volatile RuntimeException failure;

    VcpuBus(int vcpu, LocalApic lapic, IoApic ioapic, DualPic pic, Runnable stopInterpreter) {
        this.vcpu = vcpu;
        this.lapic = lapic;
        this.ioapic = ioapic;
        this.pic = pic;
        this.stopInterpreter = stopInterpreter;
    }

    void connect(IoHandler io) {
        handler = io;
    }

    /** The handler's failure since the last call, or null. */
    RuntimeException takeFailure() {
        RuntimeException f = failure;
        failure = null;
        return f;
    }

    @Override
    public long portRead(int port, int size) {
        if (DualPic.handlesPort(port)) {
            return pic.portRead(port, size);
        }
        try {
            return handler.portRead(vcpu, port, size);
        } catch (RuntimeException e) {
            return failed(e, size);
        }
    }

    @Override
    public void portWrite(int port, int size, long value) {
        if (DualPic.handlesPort(port)) {
            pic.portWrite(port, size, value);
            return;
        }
        try {
            handler.portWrite(vcpu, port, size, value);
        } catch (RuntimeException e) {
            failed(e, size);
        }
    }

    @Override
    public long mmioRead(long address, int size) {
        if (lapic.decodes(address)) {
            return lapic.mmioRead((int) (address - lapic.mmioBase()), size);
        }
        long ioapicBase = ioapic.mmioBase();
        if (address >= ioapicBase && address < ioapicBase + IOAPIC_WINDOW) {
            return ioapic.mmioRead((int) (address - ioapicBase), size);
        }
        try {
            return handler.mmioRead(vcpu, address, size);
        } catch (RuntimeException e) {
            return failed(e, size);
        }
    }

    @Override
    public void mmioWrite(long address, int size, long value) {
        if (lapic.decodes(address)) {
            lapic.mmioWrite((int) (address - lapic.mmioBase()), size, value);
            return;
        }
        long ioapicBase = ioapic.mmioBase();
        if (address >= ioapicBase && address < ioapicBase + IOAPIC_WINDOW) {
            ioapic.mmioWrite((int) (address - ioapicBase), size, value);
            return;
        }
        try {
            handler.mmioWrite(vcpu, address, size, value);
        } catch (RuntimeException e) {
            failed(e, size);
        }
    }

    private long failed(RuntimeException e, int size) {
        if (failure == null) {
            failure = e;
        }
        stopInterpreter.run();
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }
}

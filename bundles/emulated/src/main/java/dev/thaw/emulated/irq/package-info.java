/**
 * The interrupt controllers KVM keeps in the kernel, as device models for the emulated vCPU runtime:
 * a {@link dev.thaw.emulated.irq.LocalApic} per vCPU, the {@link dev.thaw.emulated.irq.IoApic}, the
 * 8259 pair ({@link dev.thaw.emulated.irq.DualPic}), the {@link dev.thaw.emulated.irq.ApicBus} between
 * them and KVM's default GSI routing ({@link dev.thaw.emulated.irq.InterruptRouter}). Their states are
 * the records KVM snapshots use ({@code LapicState}, {@code IoapicState}, {@code PicState}), in KVM's
 * layouts, so a snapshot of either runtime restores on the other.
 *
 * <h2>Wiring a VM</h2>
 * <pre>{@code
 * ApicBus bus = ApicBus.onSystemClock();
 * LocalApic[] apics = ...; apics[i] = bus.createLocalApic(i, i == 0, () -> kickVcpu(i));
 * IoApic ioapic = bus.createIoApic();
 * DualPic pic = new DualPic();
 * apics[0].connectPic(pic);                        // INTR -> BSP LINT0, INTA from the BSP
 * bus.setStartupListener(listener);                // INIT / SIPI
 * InterruptRouter irqs = new InterruptRouter(pic, ioapic);   // devices: irqs.line(gsi)
 * }</pre>
 * A vCPU's bus sends {@code [apic.mmioBase(), +0x1000)} to its own APIC when {@code apic.decodes(addr)},
 * {@code [ioapic.mmioBase(), +0x100)} to the IOAPIC ({@code offset = addr - base}), and ports for which
 * {@link dev.thaw.emulated.irq.DualPic#handlesPort} holds to the PIC.
 *
 * <h2>Time</h2>
 * All APIC timers run on the bus's clock in nanoseconds at KVM's rate: one tick per {@code divide} ns
 * (a 1 GHz APIC bus), so {@code TMICT = n} expires after {@code n * divide} ns and a saved current
 * count means the same remaining time on both runtimes.
 *
 * <h2>Locks</h2>
 * One monitor per device. Order: PIC, then IOAPIC, then a local APIC; no device calls another while it
 * holds its own lock except in that order, and the kick callback runs with the PIC's or IOAPIC's lock
 * possibly held, so it must only signal.
 *
 * <h2>Restore order</h2>
 * Local APICs (APIC base and page), then the IOAPIC (it may deliver level-triggered interrupts still
 * asserted), then the PIC (it drives INTR into the BSP's LINT0), then the devices, which re-assert their
 * lines.
 */
package dev.thaw.emulated.irq;

package dev.thaw.api.state;

import java.util.Objects;

/**
 * VM-wide x86 state kept by KVM's in-kernel devices.
 *
 * @param pit the in-kernel PIT, or {@code null} when the VM was created without one
 * @param clock the kvmclock
 * @param picMaster the master i8259 (IRQs 0-7)
 * @param picSlave the slave i8259 (IRQs 8-15)
 * @param ioapic the IOAPIC
 */
public record VmArchState(PitState pit, ClockData clock, PicState picMaster, PicState picSlave, IoapicState ioapic) {

    public VmArchState {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(picMaster, "picMaster");
        Objects.requireNonNull(picSlave, "picSlave");
        Objects.requireNonNull(ioapic, "ioapic");
    }
}

package dev.thaw.linux.internal;

import static dev.thaw.linux.internal.Mem.U8;
import static dev.thaw.linux.internal.Mem.offset;
import static dev.thaw.linux.internal.Mem.putU8;
import static dev.thaw.linux.internal.Mem.u8;

import dev.thaw.api.state.PicState;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_pic_state} (asm/kvm.h), the PIC variant of {@code kvm_irqchip.chip}. */
public final class KvmPicState {

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("last_irr"), U8.withName("irr"), U8.withName("imr"), U8.withName("isr"),
            U8.withName("priority_add"), U8.withName("irq_base"), U8.withName("read_reg_select"), U8.withName("poll"),
            U8.withName("special_mask"), U8.withName("init_state"), U8.withName("auto_eoi"),
            U8.withName("rotate_on_auto_eoi"), U8.withName("special_fully_nested_mode"), U8.withName("init4"),
            U8.withName("elcr"), U8.withName("elcr_mask"))
            .withName("struct kvm_pic_state");

    private static final long LAST_IRR = offset(LAYOUT, "last_irr");
    private static final long IRR = offset(LAYOUT, "irr");
    private static final long IMR = offset(LAYOUT, "imr");
    private static final long ISR = offset(LAYOUT, "isr");
    private static final long PRIORITY_ADD = offset(LAYOUT, "priority_add");
    private static final long IRQ_BASE = offset(LAYOUT, "irq_base");
    private static final long READ_REG_SELECT = offset(LAYOUT, "read_reg_select");
    private static final long POLL = offset(LAYOUT, "poll");
    private static final long SPECIAL_MASK = offset(LAYOUT, "special_mask");
    private static final long INIT_STATE = offset(LAYOUT, "init_state");
    private static final long AUTO_EOI = offset(LAYOUT, "auto_eoi");
    private static final long ROTATE_ON_AUTO_EOI = offset(LAYOUT, "rotate_on_auto_eoi");
    private static final long SPECIAL_FULLY_NESTED_MODE = offset(LAYOUT, "special_fully_nested_mode");
    private static final long INIT4 = offset(LAYOUT, "init4");
    private static final long ELCR = offset(LAYOUT, "elcr");
    private static final long ELCR_MASK = offset(LAYOUT, "elcr_mask");

    private KvmPicState() {}

    public static PicState read(MemorySegment s) {
        return new PicState(u8(s, LAST_IRR), u8(s, IRR), u8(s, IMR), u8(s, ISR), u8(s, PRIORITY_ADD),
                u8(s, IRQ_BASE), u8(s, READ_REG_SELECT), u8(s, POLL), u8(s, SPECIAL_MASK), u8(s, INIT_STATE),
                u8(s, AUTO_EOI), u8(s, ROTATE_ON_AUTO_EOI), u8(s, SPECIAL_FULLY_NESTED_MODE), u8(s, INIT4),
                u8(s, ELCR), u8(s, ELCR_MASK));
    }

    public static void write(MemorySegment s, PicState v) {
        putU8(s, LAST_IRR, v.lastIrr(), "last_irr");
        putU8(s, IRR, v.irr(), "irr");
        putU8(s, IMR, v.imr(), "imr");
        putU8(s, ISR, v.isr(), "isr");
        putU8(s, PRIORITY_ADD, v.priorityAdd(), "priority_add");
        putU8(s, IRQ_BASE, v.irqBase(), "irq_base");
        putU8(s, READ_REG_SELECT, v.readRegSelect(), "read_reg_select");
        putU8(s, POLL, v.poll(), "poll");
        putU8(s, SPECIAL_MASK, v.specialMask(), "special_mask");
        putU8(s, INIT_STATE, v.initState(), "init_state");
        putU8(s, AUTO_EOI, v.autoEoi(), "auto_eoi");
        putU8(s, ROTATE_ON_AUTO_EOI, v.rotateOnAutoEoi(), "rotate_on_auto_eoi");
        putU8(s, SPECIAL_FULLY_NESTED_MODE, v.specialFullyNestedMode(), "special_fully_nested_mode");
        putU8(s, INIT4, v.init4(), "init4");
        putU8(s, ELCR, v.elcr(), "elcr");
        putU8(s, ELCR_MASK, v.elcrMask(), "elcr_mask");
    }
}

package dev.thaw.api.state;

/** One in-kernel i8259 PIC, master or slave ({@code struct kvm_pic_state}); every field is a byte. */
public record PicState(
        int lastIrr, int irr, int imr, int isr, int priorityAdd, int irqBase, int readRegSelect,
        int poll, int specialMask, int initState, int autoEoi, int rotateOnAutoEoi,
        int specialFullyNestedMode, int init4, int elcr, int elcrMask) {}

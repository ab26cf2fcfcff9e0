package dev.thaw.emulated.diff;

/**
 * One row of the instruction-form table: an encoding of one mnemonic at one operand size with its
 * operand kinds ("ADC r/m16, r16 [mem]"), and how to generate an instance of it.
 *
 * @param name unique, the SDM's mnemonic and operand notation, with [reg] or [mem] for the r/m kind
 * @param group the table section ("arith", "shift", "string", ...) for the summary
 * @param emitter generates one instance (and any setup instructions it needs) into a {@link Gen}
 */
record Form(String name, String group, Emitter emitter) {

    @FunctionalInterface
    interface Emitter {
        void emit(Gen g);
    }

    @Override
    public String toString() {
        return name;
    }
}

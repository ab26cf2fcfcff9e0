package dev.thaw.emulated.cpu;

/**
 * What a vCPU delivers at instruction boundaries, in priority order: an event imported from a snapshot,
 * an NMI (whatever RFLAGS.IF, blocked from its delivery until the next IRET), an external interrupt from
 * the {@link InterruptSource} (with RFLAGS.IF set); and the double-fault rules when a delivery faults
 * ({@link #raise}). The IDT mechanics are {@link Interrupts}'. One vCPU thread.
 */
final class PendingEvents {

    private final Interpreter owner;
    private final Cpu c;
    private final InterruptSource irq;
    private final boolean reportExceptions;

    /** An event imported from a snapshot, delivered at the first boundary: vector, or -1. */
    int injectedVector = -1;
    int injectedKind;
    int injectedError = CpuException.NO_ERROR;
    /** An NMI taken from the InterruptSource and not yet delivered (an earlier one is still in service). */
    boolean nmiPending;

    PendingEvents(Interpreter owner, boolean reportExceptions) {
        this.owner = owner;
        this.c = owner.c;
        this.irq = c.irq;
        this.reportExceptions = reportExceptions;
    }

    /** Moves an NMI the InterruptSource holds into {@link #nmiPending}. */
    void takeNmi() {
        if (irq.takeNmi()) {
            nmiPending = true;
        }
    }

    /** Whether something can be delivered now: what ends HLT. */
    boolean deliverable() {
        takeNmi();
        return injectedVector >= 0 || (nmiPending && !c.nmiBlocked) || (c.interruptsEnabled() && irq.pendingVector() >= 0);
    }

    /** Delivers the first pending event, if any (see the class comment). */
    void deliver() {
        c.checkInterrupts = false;
        takeNmi();
        if (injectedVector >= 0) {
            int v = injectedVector;
            injectedVector = -1;
            raise(v, injectedError, injectedKind);
            c.checkInterrupts = true;
        } else if (nmiPending && !c.nmiBlocked) {
            nmiPending = false;
            raise(CpuException.NMI, CpuException.NO_ERROR, Interrupts.EXTERNAL);
            c.nmiBlocked = true;
            c.checkInterrupts = true;
        } else if (c.interruptsEnabled()) {
            int v = irq.pendingVector();
            if (v >= 0) {
                irq.acknowledge(v);
                raise(v, CpuException.NO_ERROR, Interrupts.EXTERNAL);
                c.checkInterrupts = true;
            }
        }
    }

    /** Forgets everything pending, and NMI blocking (INIT, power-up). */
    void drop() {
        injectedVector = -1;
        injectedError = CpuException.NO_ERROR;
        nmiPending = false;
        c.nmiBlocked = false;
    }

    /**
     * Delivers an exception (or an event of {@code kind}) with the double fault rules: a contributory
     * exception or #PF while delivering a contributory exception or #PF becomes #DF, anything while
     * delivering #DF is a triple fault, other combinations deliver the second event. A triple fault or an
     * unsupported feature ends the vCPU ({@link Interpreter#shutdown}); with {@code reportExceptions} an
     * exception ends the run instead of being delivered.
     */
    void raise(int vector, int error, int kind) {
        if (reportExceptions && kind != Interrupts.EXTERNAL) {
            owner.stopAfter(StopReason.exception(vector, error));
            return;
        }
        int v = vector;
        int err = error;
        int k = kind;
        for (int depth = 0; depth < 4; depth++) {
            try {
                Interrupts.deliver(c, v, k, CpuException.hasErrorCode(v) && k == Interrupts.EXCEPTION ? err : -1);
                return;
            } catch (CpuException e2) {
                if (v == CpuException.DF) {
                    break;
                }
                boolean firstContributory = k == Interrupts.EXCEPTION && contributory(v);
                boolean firstPf = k == Interrupts.EXCEPTION && v == CpuException.PF;
                boolean second = contributory(e2.vector) || e2.vector == CpuException.PF;
                if ((firstContributory && contributory(e2.vector)) || (firstPf && second)) {
                    v = CpuException.DF;
                    err = 0;
                } else {
                    v = e2.vector;
                    err = e2.errorCode;
                }
                k = Interrupts.EXCEPTION;
            } catch (UnsupportedFeature u) {
                owner.shutdown(u.getMessage());
                return;
            }
        }
        owner.shutdown("triple fault delivering vector " + vector + " (error 0x" + Integer.toHexString(error)
                + ") at rip 0x" + Long.toHexString(c.rip));
    }

    private static boolean contributory(int v) {
        return v == CpuException.DE || (v >= CpuException.TS && v <= CpuException.GP);
    }
}

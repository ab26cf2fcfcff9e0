package dev.thaw.emulated.cpu;

/**
 * Why {@link Interpreter#run(long)} returned. The CPU is always at an instruction boundary (a REP string
 * instruction may be between two iterations, its registers consistent, RIP on the instruction).
 *
 * @param kind what happened
 * @param reason for {@link Kind#SHUTDOWN}: one line saying why (a triple fault and the exceptions that led
 *     to it, or an unsupported feature); else null
 * @param vector for {@link Kind#EXCEPTION}: the exception or interrupt vector; else -1
 * @param errorCode for {@link Kind#EXCEPTION}: the error code, or -1 if the exception has none
 */
public record StopReason(Kind kind, String reason, int vector, int errorCode) {

    /** What ended a run. */
    public enum Kind {
        /** The instruction budget given to {@code run} is used up. */
        BUDGET,
        /** HLT with no interrupt to take: sleep until the InterruptSource has one, then run again. */
        HALTED,
        /**
         * Triple fault, an unsupported feature, or an internal error of the interpreter: the vCPU cannot
         * continue ({@link #reason()} says why; RIP is on the instruction concerned).
         */
        SHUTDOWN,
        /** {@link Interpreter#requestStop()} was called. */
        STOP_REQUESTED,
        /**
         * The vCPU waits for a start-up IPI (an application processor never started, or any vCPU but the
         * BSP after an INIT): it runs nothing until {@link Interpreter#startup(int)}.
         */
        WAIT_FOR_SIPI,
        /**
         * Only with {@link Interpreter.Options#reportExceptions()}: an exception (RIP on the faulting
         * instruction) or a software interrupt INT n/INT3/INTO/INT1 (RIP after it) was not delivered.
         */
        EXCEPTION
    }

    public static final StopReason BUDGET = new StopReason(Kind.BUDGET, null, -1, -1);
    public static final StopReason HALTED = new StopReason(Kind.HALTED, null, -1, -1);
    public static final StopReason STOP_REQUESTED = new StopReason(Kind.STOP_REQUESTED, null, -1, -1);
    public static final StopReason WAIT_FOR_SIPI = new StopReason(Kind.WAIT_FOR_SIPI, null, -1, -1);

    static StopReason shutdown(String reason) {
        return new StopReason(Kind.SHUTDOWN, reason, -1, -1);
    }

    static StopReason exception(int vector, int errorCode) {
        return new StopReason(Kind.EXCEPTION, null, vector, errorCode);
    }
}

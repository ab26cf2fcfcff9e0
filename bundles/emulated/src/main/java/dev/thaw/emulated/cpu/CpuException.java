package dev.thaw.emulated.cpu;

/**
 * A guest exception raised while executing an instruction: unwinds to the run loop, which restores RIP to
 * the faulting instruction and delivers the vector. Guest exceptions are rare, so one cheap throwable
 * (no stack trace) per raise is fine; nothing on a common path throws.
 */
final class CpuException extends RuntimeException {

    static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11,
            SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

    /** No error code. */
    static final int NO_ERROR = -1;

    final int vector;
    /** The error code, or {@link #NO_ERROR}. */
    final int errorCode;

    CpuException(int vector, int errorCode) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
    }

    @Override
    public String getMessage() {
        return "vector " + vector + (errorCode >= 0 ? " error 0x" + Integer.toHexString(errorCode) : "");
    }

    static CpuException gp(int error) {
        return new CpuException(GP, error);
    }

    static CpuException gp0() {
        return new CpuException(GP, 0);
    }

    static CpuException ud() {
        return new CpuException(UD, NO_ERROR);
    }

    static CpuException ss(int error) {
        return new CpuException(SS, error);
    }

    static CpuException np(int error) {
        return new CpuException(NP, error);
    }

    static CpuException ts(int error) {
        return new CpuException(TS, error);
    }

    static CpuException de() {
        return new CpuException(DE, NO_ERROR);
    }

    /** Whether exception {@code vector} pushes an error code in protected mode. */
    static boolean hasErrorCode(int vector) {
        return vector == DF || (vector >= TS && vector <= PF) || vector == AC || vector == 21 || vector == 29
                || vector == 30;
    }
}

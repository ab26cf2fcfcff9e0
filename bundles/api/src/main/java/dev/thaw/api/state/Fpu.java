package dev.thaw.api.state;

import java.util.Arrays;
import java.util.Objects;

/**
 * x87 and SSE state in FXSAVE terms ({@code struct kvm_fpu}). The same state is also inside
 * {@link Xsave}; a {@link VcpuState} keeps only the XSAVE form.
 *
 * @param fpr the eight x87 registers, 16 bytes each (128 bytes)
 * @param xmm the sixteen XMM registers, 16 bytes each (256 bytes)
 */
public record Fpu(byte[] fpr, int fcw, int fsw, int ftwx, int lastOpcode, long lastIp, long lastDp,
        byte[] xmm, long mxcsr) {

    public static final int FPR_BYTES = 8 * 16;
    public static final int XMM_BYTES = 16 * 16;

    public Fpu {
        if (fpr.length != FPR_BYTES) {
            throw new IllegalArgumentException("fpr has " + fpr.length + " bytes, expected " + FPR_BYTES);
        }
        if (xmm.length != XMM_BYTES) {
            throw new IllegalArgumentException("xmm has " + xmm.length + " bytes, expected " + XMM_BYTES);
        }
        fpr = fpr.clone();
        xmm = xmm.clone();
    }

    @Override
    public byte[] fpr() {
        return fpr.clone();
    }

    @Override
    public byte[] xmm() {
        return xmm.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fpu x && Arrays.equals(fpr, x.fpr) && fcw == x.fcw && fsw == x.fsw
                && ftwx == x.ftwx && lastOpcode == x.lastOpcode && lastIp == x.lastIp && lastDp == x.lastDp
                && Arrays.equals(xmm, x.xmm) && mxcsr == x.mxcsr;
    }

    @Override
    public int hashCode() {
        return Objects.hash(fcw, fsw, ftwx, lastOpcode, lastIp, lastDp, mxcsr) * 31 * 31
                + Arrays.hashCode(fpr) * 31 + Arrays.hashCode(xmm);
    }

    @Override
    public String toString() {
        return "Fpu[fcw=0x" + Integer.toHexString(fcw) + ", fsw=0x" + Integer.toHexString(fsw)
                + ", ftwx=0x" + Integer.toHexString(ftwx) + ", lastOpcode=" + lastOpcode
                + ", lastIp=0x" + Long.toHexString(lastIp) + ", lastDp=0x" + Long.toHexString(lastDp)
                + ", mxcsr=0x" + Long.toHexString(mxcsr) + ", fpr=" + fpr.length + " bytes, xmm="
                + xmm.length + " bytes]";
    }
}

package dev.thaw.api.runtime;

/** A runtime operation failed; the message names the operation and why (for KVM: the ioctl and errno). */
public class VcpuRuntimeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public VcpuRuntimeException(String message) {
        super(message);
    }

    public VcpuRuntimeException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.thaw.kvm;

/** A KVM operation failed; the message names the operation, the ioctl and the errno. */
public class KvmException extends dev.thaw.api.runtime.VcpuRuntimeException {

    private static final long serialVersionUID = 1L;

    public KvmException(String message) {
        super(message);
    }

    public KvmException(String message, Throwable cause) {
        super(message, cause);
    }
}

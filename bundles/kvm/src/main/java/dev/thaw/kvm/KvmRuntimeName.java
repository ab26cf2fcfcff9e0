package dev.thaw.kvm;

/** The KVM runtime's name, as {@link dev.thaw.api.runtime.VcpuRuntime#NAME_PROPERTY} and listings give it. */
public final class KvmRuntimeName {

    public static final String NAME = "kvm";

    private KvmRuntimeName() {}
}

package dev.thaw.kvm;

/**
 * How to create a VM.
 *
 * @param name names the VM in logs and its vCPU threads ({@code vcpu-<name>-<i>}); letters, digits,
 *     {@code .}, {@code _} and {@code -}
 * @param pit whether to create the in-kernel i8254 PIT (KVM_CREATE_PIT2)
 * @param tssAddress guest physical address of the three pages KVM_SET_TSS_ADDR reserves
 * @param identityMapAddress guest physical address of the page KVM_SET_IDENTITY_MAP_ADDR reserves
 *     (used only where KVM reports KVM_CAP_SET_IDENTITY_MAP_ADDR)
 */
public record VmOptions(String name, boolean pit, long tssAddress, long identityMapAddress) {

    /** Just below 4 GiB, the address Firecracker and others use. */
    public static final long DEFAULT_TSS_ADDRESS = 0xfffb_d000L;
    /** The page below the TSS pages, KVM's own default. */
    public static final long DEFAULT_IDENTITY_MAP_ADDRESS = 0xfffb_c000L;

    public VmOptions {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,40}")) {
            throw new IllegalArgumentException("VM name '" + name
                    + "': use 1-40 letters, digits, '.', '_' or '-'");
        }
        if ((tssAddress & 0xfff) != 0 || (identityMapAddress & 0xfff) != 0) {
            throw new IllegalArgumentException("TSS and identity map addresses must be page aligned");
        }
    }

    /** Default addresses and a PIT. */
    public static VmOptions named(String name) {
        return new VmOptions(name, true, DEFAULT_TSS_ADDRESS, DEFAULT_IDENTITY_MAP_ADDRESS);
    }

    public VmOptions withPit(boolean withPit) {
        return new VmOptions(name, withPit, tssAddress, identityMapAddress);
    }
}

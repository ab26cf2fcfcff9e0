package dev.thaw.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.kvm.impl.KvmHypervisor;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the KVM runtime says where its device is missing: runs everywhere, /dev/kvm or not. */
class MissingDeviceTest {

    private static final String REASON = "open /nonexistent/kvm: ENOENT (No such file or directory)";

    @Test
    void aMissingDeviceIsReportedByNameOnce() {
        KvmHypervisor missing = new KvmHypervisor("/nonexistent/kvm", 0);
        try {
            assertEquals(Optional.of(REASON), missing.unavailableReason());
            KvmException e = assertThrows(KvmException.class, () -> missing.createVm(VmOptions.named("nope")));
            assertEquals(REASON, e.getMessage());
        } finally {
            missing.close();
        }
    }
}

package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The state JSON's runtime: written as the VM's, and read as KVM's where a state from before it has none. */
class StateJsonTest {

    static final List<RegionLayout> ONE_REGION = List.of(new RegionLayout("ram0", 0, 1 << 20));

    @Test
    void theRuntimeRoundTrips() throws Exception {
        MachineState kvm = Snapshots.state(3, ONE_REGION);
        MachineState emulated = new MachineState(kvm.guest(), kvm.boot(), kvm.memory(), kvm.vm(), kvm.vcpus(), kvm.devices(),
                kvm.session(), "emulated");
        assertEquals(emulated, StateJson.read(StateJson.write(emulated)));
        assertEquals("emulated", StateJson.read(StateJson.write(emulated)).runtime());
    }

    @Test
    void aStateWithoutRuntimeRanOnKvm() throws Exception {
        MachineState state = Snapshots.state(4, ONE_REGION);
        String json = new String(StateJson.write(state), StandardCharsets.UTF_8);
        String withoutRuntime = json.replace(",\"runtime\":\"kvm\"", "");
        assertEquals(json.length() - ",\"runtime\":\"kvm\"".length(), withoutRuntime.length(), "the runtime is written");
        assertEquals(state, StateJson.read(withoutRuntime.getBytes(StandardCharsets.UTF_8)));
        assertEquals("kvm", StateJson.read(withoutRuntime.getBytes(StandardCharsets.UTF_8)).runtime());
    }

    @Test
    void anythingElseMissingIsStillRefused() throws Exception {
        String json = new String(StateJson.write(Snapshots.state(5, ONE_REGION)), StandardCharsets.UTF_8);
        String withoutSession = json.replaceFirst(",\"session\":\\{[^}]*\\}", "");
        Exception e = assertThrows(Exception.class, () -> StateJson.read(withoutSession.getBytes(StandardCharsets.UTF_8)));
        assertEquals(true, StateJson.describe(e).contains("session"), StateJson.describe(e));
    }
}

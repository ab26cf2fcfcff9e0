package dev.thaw.format.thaw.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thaw.api.snapshot.DeviceState;
import dev.thaw.api.snapshot.MachineState;
import dev.thaw.api.snapshot.RegionLayout;
import dev.thaw.api.state.VcpuState;
import dev.thaw.api.vm.BootRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fields the state JSON gained after its first version: written, and read as what a state from before
 * them means where it lacks them (the runtime as KVM's, the TSC rate as unknown, device states as version 1, the
 * guest's resident set as its working set, its write percent as 100).
 */
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
    void theTscRateRoundTrips() throws Exception {
        MachineState state = Snapshots.state(6, ONE_REGION);
        long rate = state.vcpus().getFirst().tscKhz();
        assertEquals(true, rate > 2_000_000, "the sample state has a rate: " + rate);
        assertEquals(rate, StateJson.read(StateJson.write(state)).vcpus().getFirst().tscKhz());
    }

    @Test
    void aStateWithoutTscRatesSaysItsRateIsUnknown() throws Exception {
        MachineState state = Snapshots.state(8, ONE_REGION);
        String json = new String(StateJson.write(state), StandardCharsets.UTF_8);
        String withoutRates = json.replaceAll(",\"tscKhz\":[0-9]+", "");
        assertEquals(false, withoutRates.contains("tscKhz"), "the rate is written");
        MachineState read = StateJson.read(withoutRates.getBytes(StandardCharsets.UTF_8));
        List<VcpuState> unknown = state.vcpus().stream().map(v -> v.withTscKhz(VcpuState.TSC_KHZ_UNKNOWN)).toList();
        assertEquals(unknown, read.vcpus());
        assertEquals(state.devices(), read.devices());
        assertEquals(state.runtime(), read.runtime());
    }

    @Test
    void deviceStateVersionsRoundTripAndAStateWithoutThemReadsAsVersionOne() throws Exception {
        MachineState state = Snapshots.state(9, ONE_REGION);
        assertEquals(List.of(1, 2), state.devices().stream().map(DeviceState::version).toList());
        assertEquals(state.devices(), StateJson.read(StateJson.write(state)).devices());
        String json = new String(StateJson.write(state), StandardCharsets.UTF_8);
        String withoutVersions = json.replaceAll("(\"type\":\"[a-z0-9-]+\"),\"version\":[0-9]+,", "$1,");
        assertEquals(false, withoutVersions.contains("\"version\""), "the versions are written");
        MachineState read = StateJson.read(withoutVersions.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(1, 1), read.devices().stream().map(DeviceState::version).toList());
        assertEquals(state.devices().stream().map(DeviceState::state).toList(),
                read.devices().stream().map(DeviceState::state).toList());
        assertEquals(state.vcpus(), read.vcpus());
    }

    @Test
    void theResidentSetRoundTripsAndAStateWithoutItKeptTheWorkingSetAlone() throws Exception {
        MachineState state = Snapshots.state(10, ONE_REGION);
        BootRequest b = state.boot();
        BootRequest resident = new BootRequest(b.name(), b.memoryBytes(), b.vcpus(), b.workload(), b.seed(), b.workingSetBytes(),
                b.touchOrder(), b.strideBytes(), 2 * b.workingSetBytes());
        MachineState withResident = new MachineState(state.guest(), resident, state.memory(), state.vm(), state.vcpus(),
                state.devices(), state.session(), state.runtime());
        assertEquals(withResident, StateJson.read(StateJson.write(withResident)));

        String json = new String(StateJson.write(withResident), StandardCharsets.UTF_8);
        String field = ",\"residentBytes\":" + 2 * b.workingSetBytes();
        String withoutResident = json.replace(field, "");
        assertEquals(json.length() - field.length(), withoutResident.length(), "the resident set is written");
        MachineState read = StateJson.read(withoutResident.getBytes(StandardCharsets.UTF_8));
        assertEquals(BootRequest.RESIDENT_AS_WORKING_SET, read.boot().residentBytes());
        assertEquals(state, read);
    }

    @Test
    void theWritePercentRoundTripsAndAStateWithoutItWroteEveryPageRead() throws Exception {
        MachineState state = Snapshots.state(10, ONE_REGION);
        BootRequest b = state.boot();
        BootRequest writing = new BootRequest(b.name(), b.memoryBytes(), b.vcpus(), b.workload(), b.seed(), b.workingSetBytes(),
                b.touchOrder(), b.strideBytes(), b.residentBytes(), 10);
        MachineState withWritePercent = new MachineState(state.guest(), writing, state.memory(), state.vm(), state.vcpus(),
                state.devices(), state.session(), state.runtime());
        assertEquals(withWritePercent, StateJson.read(StateJson.write(withWritePercent)));

        String json = new String(StateJson.write(withWritePercent), StandardCharsets.UTF_8);
        String field = ",\"writePercent\":10";
        String withoutWritePercent = json.replace(field, "");
        assertEquals(json.length() - field.length(), withoutWritePercent.length(), "the write percent is written");
        MachineState read = StateJson.read(withoutWritePercent.getBytes(StandardCharsets.UTF_8));
        assertEquals(BootRequest.WRITE_ALL, read.boot().writePercent());
        assertEquals(state, read);
    }

    @Test
    void anythingElseMissingIsStillRefused() throws Exception {
        String json = new String(StateJson.write(Snapshots.state(5, ONE_REGION)), StandardCharsets.UTF_8);
        String withoutSession = json.replaceFirst(",\"session\":\\{[^}]*\\}", "");
        Exception e = assertThrows(Exception.class, () -> StateJson.read(withoutSession.getBytes(StandardCharsets.UTF_8)));
        assertEquals(true, StateJson.describe(e).contains("session"), StateJson.describe(e));
        // A state from before the runtime was named, which goes the way of filling fields in, refuses it too.
        String alsoWithoutRuntime = withoutSession.replace(",\"runtime\":\"kvm\"", "");
        Exception old = assertThrows(Exception.class, () -> StateJson.read(alsoWithoutRuntime.getBytes(StandardCharsets.UTF_8)));
        assertEquals(true, StateJson.describe(old).contains("session"), StateJson.describe(old));
    }
}

package dev.thaw.emulated.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.VmExit;
import dev.thaw.api.state.MpState;
import dev.thaw.api.state.VcpuState;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A guest starts its application processor the standard way: the BSP sends INIT, then two start-up IPIs
 * with vector 8, and the AP runs real-mode code at 0x8000 that sets a flag.
 */
class StartupIpiTest {

    private static final long BSP_CODE = 0x10000;
    private static final long AP_CODE = 0x8000;
    private static final int FLAG = 0x1234_5678;

    /** mov dword [0xfee00000 + offset], value */
    private static int[] apicWrite(int offset, int value) {
        return new int[] {0xc7, 0x05, offset & 0xff, (offset >>> 8) & 0xff, 0xe0, 0xfe,
            value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24};
    }

    private static final int[] TO_AP1 = apicWrite(0x310, 0x0100_0000); // ICR high: APIC ID 1
    private static final int[] INIT = apicWrite(0x300, 0x0000_4500); // INIT, level, assert
    private static final int[] INIT_DEASSERT = apicWrite(0x300, 0x0000_8500);
    private static final int[] SIPI = apicWrite(0x300, 0x0000_4608); // start-up at 0x8000

    private static final int[] WAIT_FLAG_THEN_HALT = {
        0xf3, 0x90, //                                          loop: pause
        0x81, 0x3d, 0x00, 0x20, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, // cmp dword [0x2000], FLAG
        0x75, 0xf2, //                                          jne loop
        0xfa, 0xf4}; //                                         cli; hlt

    private static final int[] DEBUG_EXIT = {
        0x66, 0xba, 0x01, 0x05, //                              mov dx, 0x501
        0xef}; //                                               out dx, eax

    private static final int[] AP = {
        0x8c, 0xc8, //                                          mov ax, cs
        0xa3, 0x04, 0x20, //                                    mov [0x2004], ax
        0x66, 0xc7, 0x06, 0x00, 0x20, 0x78, 0x56, 0x34, 0x12, // mov dword [0x2000], FLAG
        0xfa, 0xf4}; //                                         cli; hlt

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void initSipiSipiStartsTheAp() throws Exception {
        try (TinyVm t = new TinyVm("init-sipi", 2)) {
            assertEquals(MpState.UNINITIALIZED, t.vm.vcpus().get(1).saveState().mpState(), "an AP waits for INIT and SIPI");
            t.put(BSP_CODE, concat(TO_AP1, INIT, INIT_DEASSERT, SIPI, SIPI, WAIT_FLAG_THEN_HALT));
            t.put(AP_CODE, AP);
            t.enterProtected32(0, BSP_CODE);
            VmExit exit = t.run(Duration.ofSeconds(10));
            assertEquals(VmExit.Kind.HALTED, exit.kind(), exit.reason());
            assertTrue(exit.reason().contains("every other vCPU"), exit.reason());
            assertEquals(FLAG, t.get32(0x2000), "the AP ran");
            assertEquals(0x0800, t.get32(0x2004) & 0xffff, "in real mode at CS = vector << 8");
            VcpuState ap = t.vm.vcpus().get(1).saveState();
            assertEquals(MpState.HALTED, ap.mpState());
            assertEquals(0x8000L, ap.sregs().cs().base());
        }
    }

    @Test
    void initReceivedTravelsInTheSavedState() throws Exception {
        int[] bsp = concat(TO_AP1, INIT, DEBUG_EXIT, SIPI, WAIT_FLAG_THEN_HALT);
        VcpuState savedBsp;
        VcpuState savedAp;
        try (TinyVm t = new TinyVm("init-only", 2)) {
            t.put(BSP_CODE, bsp);
            t.enterProtected32(0, BSP_CODE);
            assertEquals(VmExit.Kind.STOPPED, t.run(Duration.ofSeconds(10)).kind());
            savedBsp = t.vm.vcpus().get(0).saveState();
            savedAp = t.vm.vcpus().get(1).saveState();
        }
        assertEquals(MpState.INIT_RECEIVED, savedAp.mpState(), "INIT taken, no SIPI yet");
        assertEquals(0xffff_0000L, savedAp.sregs().cs().base(), "the INIT state");
        assertEquals(0xfff0L, savedAp.regs().rip());
        try (TinyVm t = new TinyVm("init-restored", 2)) {
            t.put(BSP_CODE, bsp);
            t.put(AP_CODE, AP);
            t.vm.vcpus().get(0).restoreState(savedBsp);
            t.vm.vcpus().get(1).restoreState(savedAp);
            VmExit exit = t.run(Duration.ofSeconds(10));
            assertEquals(VmExit.Kind.HALTED, exit.kind(), exit.reason());
            assertEquals(FLAG, t.get32(0x2000), "one SIPI started the restored AP");
        }
    }

    @Test
    void aSingleVcpuHaltedWithInterruptsOffEndsTheVm() throws Exception {
        try (TinyVm t = new TinyVm("cli-hlt", 1)) {
            t.put(BSP_CODE, 0xfa, 0xf4);
            t.enterProtected32(0, BSP_CODE);
            VmExit exit = t.run(Duration.ofSeconds(10));
            assertEquals(VmExit.Kind.HALTED, exit.kind(), exit.reason());
            assertEquals("vCPU 0: halted with interrupts disabled", exit.reason());
        }
    }
}

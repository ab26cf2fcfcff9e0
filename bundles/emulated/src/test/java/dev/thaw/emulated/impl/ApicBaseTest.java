package dev.thaw.emulated.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thaw.api.runtime.VmExit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The guest's WRMSR IA32_APIC_BASE reaches its local APIC: the APIC page moves and is disabled as told. */
class ApicBaseTest {

    private static final long CODE = 0x10000;
    private static final int VERSION = 0x0005_0014;

    @Test
    void apicPageFollowsTheBaseMsr() throws Exception {
        try (TinyVm t = new TinyVm("apic-base", 1)) {
            t.put(CODE,
                    0xb9, 0x1b, 0x00, 0x00, 0x00, //       mov ecx, 0x1b
                    0x0f, 0x32, //                         rdmsr
                    0xa3, 0x00, 0x20, 0x00, 0x00, //       mov [0x2000], eax
                    0xb8, 0x00, 0x09, 0xd0, 0xfe, //       mov eax, 0xfed00900: move the page
                    0x31, 0xd2, //                         xor edx, edx
                    0x0f, 0x30, //                         wrmsr
                    0xa1, 0x30, 0x00, 0xd0, 0xfe, //       mov eax, [0xfed00030]: version, at the new base
                    0xa3, 0x04, 0x20, 0x00, 0x00, //       mov [0x2004], eax
                    0xa1, 0x30, 0x00, 0xe0, 0xfe, //       mov eax, [0xfee00030]: the old base is not the APIC's now
                    0xa3, 0x08, 0x20, 0x00, 0x00, //       mov [0x2008], eax
                    0x0f, 0x32, //                         rdmsr
                    0xa3, 0x0c, 0x20, 0x00, 0x00, //       mov [0x200c], eax
                    0xb8, 0x00, 0x01, 0xd0, 0xfe, //       mov eax, 0xfed00100: disable (BSP flag kept)
                    0x0f, 0x30, //                         wrmsr
                    0xa1, 0x30, 0x00, 0xd0, 0xfe, //       mov eax, [0xfed00030]
                    0xa3, 0x10, 0x20, 0x00, 0x00, //       mov [0x2010], eax
                    0xb8, 0x00, 0x09, 0xe0, 0xfe, //       mov eax, 0xfee00900: enabled at the default base again
                    0x0f, 0x30, //                         wrmsr
                    0xa1, 0x30, 0x00, 0xe0, 0xfe, //       mov eax, [0xfee00030]
                    0xa3, 0x14, 0x20, 0x00, 0x00, //       mov [0x2014], eax
                    0xb8, 0x2a, 0x00, 0x00, 0x00, //       mov eax, 42
                    0x66, 0xba, 0x01, 0x05, //             mov dx, 0x501
                    0xef, //                               out dx, eax
                    0xf4); //                              hlt
            t.enterProtected32(0, CODE);
            VmExit exit = t.run(Duration.ofSeconds(10));
            assertEquals(VmExit.Kind.STOPPED, exit.kind(), exit.reason());
            assertEquals(42, t.exitCode);
            assertEquals(0xfee0_0900, t.get32(0x2000), "RDMSR reads the APIC's base: enabled, BSP");
            assertEquals(VERSION, t.get32(0x2004), "the APIC answers at its new base");
            assertEquals((int) TinyVm.UNBACKED, t.get32(0x2008), "and no longer at the old one");
            assertEquals(0xfed0_0900, t.get32(0x200c));
            assertEquals((int) TinyVm.UNBACKED, t.get32(0x2010), "a disabled APIC decodes no page");
            assertEquals(VERSION, t.get32(0x2014));
            assertEquals(0xfee0_0900L, t.vm.vcpus().get(0).saveState().sregs().apicBase());
        }
    }

    @Test
    void refusedBaseRaisesGp() throws Exception {
        try (TinyVm t = new TinyVm("apic-x2apic", 1)) {
            t.put(CODE,
                    0xb9, 0x1b, 0x00, 0x00, 0x00, //       mov ecx, 0x1b
                    0xb8, 0x00, 0x0d, 0xe0, 0xfe, //       mov eax, 0xfee00d00: x2APIC mode
                    0x31, 0xd2, //                         xor edx, edx
                    0x0f, 0x30, //                         wrmsr: #GP, and without an IDT a triple fault
                    0xf4); //                              hlt
            t.enterProtected32(0, CODE);
            VmExit exit = t.run(Duration.ofSeconds(10));
            assertEquals(VmExit.Kind.SHUTDOWN, exit.kind(), exit.reason());
            assertTrue(exit.reason().contains("triple fault delivering vector 13"), exit.reason());
            assertEquals(0xfee0_0900L, t.vm.vcpus().get(0).saveState().sregs().apicBase());
        }
    }
}

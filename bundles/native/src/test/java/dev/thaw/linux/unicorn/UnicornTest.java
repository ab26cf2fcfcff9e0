package dev.thaw.linux.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The binding against hand-computed results; a missing library is a clear one-line error. */
class UnicornTest {

    static final long CODE = 0x2000, DATA = 0x4000, STACK = 0x8000, GDT = 0x1000, RAM = 0x10000;

    @Test
    void theLibraryIsUnicorn2() {
        assertEquals(java.util.Optional.empty(), Unicorn.unavailableReason());
        int v = Unicorn.version();
        assertEquals(2, v >>> 24, "Unicorn major version of 0x" + Integer.toHexString(v));
        assertTrue(Unicorn.strerror(Unicorn.UC_ERR_INSN_INVALID).contains("UC_ERR_INSN_INVALID"));
    }

    @Test
    void aMissingLibraryFailsWithOneLineNamingTheInstallCommand() {
        UnicornUnavailableException e = assertThrows(UnicornUnavailableException.class, () -> Unicorn.load("libunicorn-absent.so.0"));
        assertTrue(e.getMessage().contains("apt-get install libunicorn2"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aFailedCallCarriesUcStrerror() {
        try (Unicorn uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64)) {
            UnicornException e = assertThrows(UnicornException.class, () -> uc.memMap(0x1000, 0x123, Unicorn.UC_PROT_ALL));
            assertTrue(e.getMessage().startsWith("uc_mem_map failed: Invalid argument"), e.getMessage());
            assertEquals(Unicorn.UC_ERR_ARG, e.err());
            assertEquals("uc_mem_map", e.call());
        }
    }

    /** Every register id reaches the register the encoding names: {@code mov [DATA + 8i], r_i} stores each. */
    @Test
    void registerIdsMatchTheEncoding() {
        try (Unicorn uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64)) {
            MemorySegment ram = uc.arena().allocate(RAM, 4096);
            uc.memMapPtr(0, ram, Unicorn.UC_PROT_ALL);
            int[] gprs = UcX86.gprs();
            ByteBuffer code = ByteBuffer.allocate(16 * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 16; i++) {
                uc.regWrite(gprs[i], 0x1111_1111_1111_1111L * (i + 1) ^ i);
                // REX.W (+R), MOV r/m64, r64, ModRM mod 00 r/m 100 (SIB), SIB base 101 no index: [disp32]
                code.put((byte) (0x48 | (i >= 8 ? 4 : 0))).put((byte) 0x89).put((byte) ((i & 7) << 3 | 4)).put((byte) 0x25)
                        .putInt((int) (DATA + 8 * i));
            }
            MemorySegment.copy(MemorySegment.ofArray(code.array()), 0, ram, CODE, code.capacity());
            assertEquals(Unicorn.UC_ERR_OK, uc.emuStart(CODE, CODE + code.capacity(), 0, 0));
            for (int i = 0; i < 16; i++) {
                assertEquals(0x1111_1111_1111_1111L * (i + 1) ^ i, ram.get(JAVA_LONG_UNALIGNED, DATA + 8 * i), "register " + i);
            }
        }
    }

    /**
     * GDTR written as a {@code uc_x86_mmr} is the table IRETQ reads: it returns to CPL 3 through the user code
     * and data descriptors there (Unicorn's register API cannot change CPL itself).
     */
    @Test
    void aGdtWrittenThroughRegWriteMmrTakesIretqToCpl3() {
        try (Unicorn uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64)) {
            MemorySegment ram = uc.arena().allocate(RAM, 4096);
            uc.memMapPtr(0, ram, Unicorn.UC_PROT_ALL);
            ram.set(JAVA_LONG_UNALIGNED, GDT + 0x28, 0x00cf_f300_0000_ffffL); // 0x2b: user data, DPL 3
            ram.set(JAVA_LONG_UNALIGNED, GDT + 0x30, 0x00af_fb00_0000_ffffL); // 0x33: user code, 64-bit, DPL 3
            uc.regWriteMmr(UcX86.UC_X86_REG_GDTR, 0, GDT, 0x37, 0);
            long user = CODE + 0x10;
            long[] frame = {user, 0x33, 0x2, STACK, 0x2b}; // RIP, CS, RFLAGS, RSP, SS
            for (int i = 0; i < frame.length; i++) {
                ram.set(JAVA_LONG_UNALIGNED, STACK - 0x100 + 8L * i, frame[i]);
            }
            uc.regWrite(UcX86.UC_X86_REG_RSP, STACK - 0x100);
            ram.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, CODE, (short) 0xcf48); // iretq
            ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, user, (byte) 0x90); // nop
            assertEquals(Unicorn.UC_ERR_OK, uc.emuStart(CODE, user + 1, 0, 0));
            assertEquals(0x33, uc.regRead(UcX86.UC_X86_REG_CS));
            assertEquals(0x2b, uc.regRead(UcX86.UC_X86_REG_SS));
            assertEquals(STACK, uc.regRead(UcX86.UC_X86_REG_RSP));
        }
    }
}

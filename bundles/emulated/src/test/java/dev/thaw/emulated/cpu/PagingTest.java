package dev.thaw.emulated.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The page walker and TLB: 4 KiB, 2 MiB and 1 GiB pages, U/S, R/W with CR0.WP, NX, reserved bits, the
 * #PF error codes and CR2, accessed and dirty bits, CR3 reloads, INVLPG and global pages; 32-bit and PAE
 * paging. Exceptions are reported, not delivered.
 */
class PagingTest {

    static final long PML4 = 0x100000, PDPT = 0x101000, PD0 = 0x102000, PT0 = 0x103000, PD1 = 0x104000;
    static final long P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100, NX = 1L << 63;

    static final long RW_PAGE = 0x180000, RO_PAGE = 0x181000, SUP_PAGE = 0x182000, NX_PAGE = 0x183000,
            ABSENT = 0x184000, RSVD_PAGE = 0x185000;

    private TestCpu t;

    @BeforeEach
    void tables() {
        t = new TestCpu(8 << 20, true);
        t.put64(PML4, PDPT | P | RW | US);
        t.put64(PDPT, PD0 | P | RW | US);
        t.put64(PDPT + 8, PD1 | P | RW | US);
        t.put64(PDPT + 16, 0 | PS | P | RW | US); // 2-3 GiB: 1 GiB page at physical 0
        t.put64(PD0, PT0 | P | RW | US);
        for (int k = 0; k < 512; k++) {
            t.put64(PT0 + 8L * k, ((long) k << 12) | P | RW | US); // identity 0..2 MiB
        }
        pte(RW_PAGE, 0x300000 | P | RW | US);
        pte(RO_PAGE, 0x301000 | P | US);
        pte(SUP_PAGE, 0x302000 | P | RW);
        pte(NX_PAGE, 0x303000 | P | RW | US | NX);
        pte(ABSENT, 0);
        pte(RSVD_PAGE, 0x304000 | P | RW | US | (1L << 50));
        t.put64(PD1 + 8, 0x200000 | PS | P | RW | US); // 1 GiB + 2 MiB: 2 MiB page at 2 MiB
        for (int k = 0; k < 5; k++) {
            t.put64(0x300000 + 0x1000L * k, 0x1111_0000L + k);
        }
        t.c.cr3 = PML4;
        t.c.efer |= Cpu.EFER_NXE;
        t.c.mmu.flushAll();
    }

    @AfterEach
    void close() {
        t.close();
    }

    private void pte(long lin, long value) {
        t.put64(PT0 + 8 * (lin >>> 12 & 511), value);
    }

    private long readAt(long lin) {
        t.c.r[Cpu.RBX] = lin;
        StopReason r = t.exec(1, 0x48, 0x8b, 0x03); // mov rax, [rbx]
        assertEquals(StopReason.Kind.BUDGET, r.kind(), () -> r.toString());
        return t.c.r[Cpu.RAX];
    }

    private StopReason access(long lin, boolean write) {
        t.c.r[Cpu.RBX] = lin;
        return write ? t.exec(1, 0x48, 0x89, 0x03) : t.exec(1, 0x48, 0x8b, 0x03);
    }

    private void assertPageFault(StopReason r, int error, long cr2) {
        assertEquals(StopReason.Kind.EXCEPTION, r.kind(), r::toString);
        assertEquals(14, r.vector());
        assertEquals(error, r.errorCode(), () -> "error code 0x" + Integer.toHexString(r.errorCode()));
        assertEquals(cr2, t.c.cr2);
        assertEquals(TestCpu.CODE, t.c.rip, "RIP stays on the faulting instruction");
    }

    @Test
    void translatesEveryPageSize() {
        assertEquals(0x1111_0000L, readAt(RW_PAGE));
        t.put64(0x201008, 0x2222);
        assertEquals(0x2222, readAt(0x4020_1008L), "2 MiB page");
        assertEquals(0x1111_0000L, readAt(0x8030_0000L), "1 GiB page");
        t.put64(0x3ff8, 0x0102_0304_0506_0708L);
        t.put64(0x4000, 0x1112_1314_1516_1718L);
        assertEquals(0x1516_1718_0102_0304L, readAt(0x3ffc), "a read crossing two pages");
    }

    @Test
    void setsAccessedAndDirtyBits() {
        readAt(RW_PAGE);
        long e = t.get64(PT0 + 8 * (RW_PAGE >>> 12 & 511));
        assertEquals(A, e & (A | D), "read: accessed, not dirty");
        assertEquals(A, t.get64(PML4) & A);
        assertEquals(A, t.get64(PDPT) & A);
        assertEquals(A, t.get64(PD0) & A);
        access(RW_PAGE, true);
        assertEquals(A | D, t.get64(PT0 + 8 * (RW_PAGE >>> 12 & 511)) & (A | D), "write: dirty");
        assertEquals(0, t.get64(PD0) & D, "no dirty bit above the leaf");
    }

    @Test
    void reportsEachPermissionFault() {
        assertPageFault(access(ABSENT, false), 0, ABSENT);
        assertPageFault(access(ABSENT, true), 2, ABSENT);
        assertPageFault(access(RSVD_PAGE, false), 8 | 1, RSVD_PAGE);

        t.c.cr0 &= ~Cpu.CR0_WP;
        t.c.mmu.flushAll();
        assertEquals(StopReason.Kind.BUDGET, access(RO_PAGE, true).kind(), "CR0.WP=0: supervisor may write");
        t.c.cr0 |= Cpu.CR0_WP;
        t.c.mmu.flushAll();
        assertPageFault(access(RO_PAGE, true), 3, RO_PAGE);

        t.c.setCpl(3);
        assertPageFault(access(SUP_PAGE, false), 5, SUP_PAGE);
        assertPageFault(access(RO_PAGE, true), 7, RO_PAGE);
        assertEquals(StopReason.Kind.BUDGET, access(RO_PAGE, false).kind());
        t.c.setCpl(0);
        assertEquals(StopReason.Kind.BUDGET, access(SUP_PAGE, true).kind());
    }

    @Test
    void noExecutePagesFaultOnFetchOnly() {
        assertEquals(StopReason.Kind.BUDGET, access(NX_PAGE, true).kind(), "data access is fine");
        t.c.r[Cpu.RBX] = NX_PAGE;
        StopReason r = t.exec(2, 0xff, 0xe3); // jmp rbx
        assertEquals(StopReason.Kind.EXCEPTION, r.kind());
        assertEquals(14, r.vector());
        assertEquals(0x11, r.errorCode(), "present, instruction fetch");
        assertEquals(NX_PAGE, t.c.cr2);
        assertEquals(NX_PAGE, t.c.rip);
    }

    @Test
    void tlbKeepsTranslationsUntilCr3ReloadOrInvlpg() {
        assertEquals(0x1111_0000L, readAt(RW_PAGE));
        pte(RW_PAGE, 0x301000 | P | RW | US);
        assertEquals(0x1111_0000L, readAt(RW_PAGE), "stale until flushed, as on hardware");
        t.c.r[Cpu.RAX] = PML4;
        t.exec(1, 0x0f, 0x22, 0xd8); // mov cr3, rax
        assertEquals(0x1111_0001L, readAt(RW_PAGE));
        pte(RW_PAGE, 0x300000 | P | RW | US);
        assertEquals(0x1111_0001L, readAt(RW_PAGE));
        t.c.r[Cpu.RBX] = RW_PAGE;
        t.exec(1, 0x0f, 0x01, 0x3b); // invlpg [rbx]
        assertEquals(0x1111_0000L, readAt(RW_PAGE));
    }

    @Test
    void invlpgDropsAllOfALargePage() {
        t.put64(0x201008, 0x2222);
        t.put64(0x3ff008, 0x3333);
        assertEquals(0x2222, readAt(0x4020_1008L));
        assertEquals(0x3333, readAt(0x403f_f008L)); // another 4 KiB piece of the same 2 MiB page
        t.put64(PD1 + 8, 0 | PS | P | RW | US); // now maps physical 0..2 MiB
        t.put64(0x1ff008, 0x4444);
        t.c.r[Cpu.RBX] = 0x4020_1000L;
        t.exec(1, 0x0f, 0x01, 0x3b); // invlpg [rbx]: one address inside the large page
        assertEquals(0x4444, readAt(0x403f_f008L), "the other piece is gone from the TLB too");
    }

    @Test
    void globalPagesSurviveCr3Reloads() {
        t.c.cr4 |= Cpu.CR4_PGE;
        pte(RW_PAGE, 0x300000 | P | RW | US | G);
        t.c.mmu.flushAll();
        assertEquals(0x1111_0000L, readAt(RW_PAGE));
        pte(RW_PAGE, 0x301000 | P | RW | US | G);
        t.c.r[Cpu.RAX] = PML4;
        t.exec(1, 0x0f, 0x22, 0xd8); // mov cr3, rax
        assertEquals(0x1111_0000L, readAt(RW_PAGE), "global: kept");
        t.c.r[Cpu.RBX] = RW_PAGE;
        t.exec(1, 0x0f, 0x01, 0x3b); // invlpg [rbx]
        assertEquals(0x1111_0001L, readAt(RW_PAGE));
    }

    @Test
    void legacyAndPaePaging() {
        // 32-bit protected mode, flat, paging off; code at 0x10000 (identity) runs below
        Cpu c = t.c;
        c.efer = 0;
        c.cr0 = Cpu.CR0_PE | Cpu.CR0_ET;
        c.cr4 = Cpu.CR4_PSE;
        c.segAttr[Cpu.CS] = 0xb | Cpu.A_S | Cpu.A_P | Cpu.A_DB | Cpu.A_G;
        c.segAttr[Cpu.SS] = 0x3 | Cpu.A_S | Cpu.A_P | Cpu.A_DB | Cpu.A_G;
        c.segAttr[Cpu.DS] = c.segAttr[Cpu.SS];
        c.updateMode();
        c.mmu.flushAll();
        // 32-bit paging: PDE 0 = 4 MiB page at 0, PDE 1 -> PT mapping 0x400000 to 0x300000
        long pd = 0x500000, pt = 0x501000;
        t.mem.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, pd, (int) (0 | PS | P | RW));
        t.mem.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, pd + 4, (int) (pt | P | RW));
        t.mem.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, pt, (int) (0x300000 | P | RW));
        c.cr3 = pd;
        c.r[Cpu.RAX] = 0x8000_0011L;
        t.exec(1, 0x0f, 0x22, 0xc0); // mov cr0, eax: paging on
        assertTrue((c.cr0 & Cpu.CR0_PG) != 0);
        c.r[Cpu.RBX] = 0x400000;
        t.exec(1, 0x8b, 0x03); // mov eax, [ebx]
        assertEquals(0x1111_0000L, c.r[Cpu.RAX]);
        // PAE: PDPT (32-byte aligned) -> PD with a 2 MiB page at 0 and a PT for 2 MiB..4 MiB
        long pdpt = 0x502000, pdPae = 0x503000, ptPae = 0x504000;
        t.put64(pdpt, pdPae | P);
        t.put64(pdPae, 0 | PS | P | RW);
        t.put64(pdPae + 8, ptPae | P | RW);
        t.put64(ptPae + 8, 0x302000 | P | RW | NX);
        c.cr3 = pdpt;
        c.cr4 = Cpu.CR4_PAE;
        c.efer = Cpu.EFER_NXE;
        c.mmu.flushAll();
        t.put64(0x302000, 0x4242);
        c.r[Cpu.RBX] = 0x201000;
        t.exec(1, 0x8b, 0x03); // mov eax, [ebx]
        assertEquals(0x4242, c.r[Cpu.RAX]);
    }
}

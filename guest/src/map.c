/*
 * Thaw test guest: the identity map of RAM, written at CPL3.
 *
 * Page-table writes at CPL0 are emulated under PVM (about 10 us per 2 MiB
 * entry, 32768 entries for 64 GiB), so the BSP writes the new tables in user
 * mode, natively, into pages that no active page table uses yet (the boot
 * tables map 0..4 MiB, which holds the pool), and one system call links them
 * in (PML4[0]) and flushes the TLB. The BSP does this first thing at CPL3;
 * the APs wait until then.
 *
 * Layout: every RAM region is identity-mapped, rounded out to 2 MiB, with
 * 1 GiB pages where CPUID allows (pdpe1gb, as the VMM configured it) and the
 * whole GiB is RAM, else 2 MiB pages; IOAPIC and LAPIC are 2 MiB uncached
 * pages. Every entry has U/S set. Addresses must be below 512 GiB (one PDPT).
 */
#include "guest.h"

#define GIB (1UL << 30)
#define MIB2 (1UL << 21)
#define PTE_TABLE 0x07UL        /* P RW US */
#define PTE_RAM 0x87UL          /* P RW US PS */
#define PTE_MMIO 0x9fUL         /* P RW US PWT PCD PS */
#define POOL_PAGES 80           /* the PDPT and up to 79 page directories */

static u64 pool[POOL_PAGES][512] __attribute__((aligned(4096)));   /* .bss */

struct builder {
	u64 *pdpt;
	u64 used;
};

static u64 *new_page(struct builder *b)
{
	if (b->used == POOL_PAGES)
		fail("error page table pool exhausted\n");
	return pool[b->used++];
}

/* The page directory of GiB g: existing, or new (empty, or split from a 1 GiB page). */
static u64 *get_pd(struct builder *b, u64 g)
{
	u64 e = b->pdpt[g];
	if ((e & 1) && !(e & 0x80))
		return (u64 *)(e & ~0xfffUL);
	u64 *pd = new_page(b);
	for (u64 i = 0; i < 512; i++)
		pd[i] = (e & 1) ? e + (i << 21) : 0;
	b->pdpt[g] = (u64)pd | PTE_TABLE;
	return pd;
}

/* Identity-map [a, end) rounded out to 2 MiB; 1 GiB pages where allowed. */
static void map_range(struct builder *b, u64 a, u64 end, u64 flags, int gb)
{
	a &= ~(MIB2 - 1);
	end = (end + MIB2 - 1) & ~(MIB2 - 1);
	while (a < end) {
		u64 g = a >> 30;
		if (gb && !(a & (GIB - 1)) && end - a >= GIB) {
			b->pdpt[g] = a | flags;
			a += GIB;
			continue;
		}
		u64 *pd = get_pd(b, g);
		u64 lim = (g + 1) << 30;
		if (lim > end)
			lim = end;
		for (; a < lim; a += MIB2)
			pd[(a >> 21) & 511] = a | flags;
	}
}

void map_ram(const struct boot_params *bp)
{
	struct builder b = { 0, 0 };
	b.pdpt = new_page(&b);
	for (u64 i = 0; i < 512; i++)
		b.pdpt[i] = 0;
	for (u64 i = 0; i < bp->ram_region_count; i++) {
		u64 base = bp->ram[i].base, end = base + bp->ram[i].size;
		if (end > (512UL << 30) || end < base)
			fail("error ram region beyond 512 GiB\n");
		map_range(&b, base, end, PTE_RAM, (int)cpu_1g_pages);
	}
	u64 g = IOAPIC_BASE >> 30;
	if (b.pdpt[g] & 1)      /* RAM in GiB 3: add the two MMIO pages to its directory */
		map_range(&b, IOAPIC_BASE, (u64)LAPIC_BASE + MIB2, PTE_MMIO, 0);
	else                    /* the static directory that maps just them */
		b.pdpt[g] = PD3_ADDR | PTE_TABLE;
	sys(SYS_MAP_RAM, (u64)b.pdpt, 0);
}

/*
 * Thaw test guest, CPL3 part: the workloads. This code runs natively under
 * PVM. It uses RAM directly (every page is mapped user-accessible) and the
 * UART through the SYS_WRITE system call (see guest.h for why not directly).
 * The checksum definitions here are the ones README.md documents.
 */
#include "guest.h"

#define LINE_MAX 128

long sys(long nr, u64 a0, u64 a1)
{
	register u64 rdi __asm__("rdi") = a0;
	register u64 rsi __asm__("rsi") = a1;
	long r;
	__asm__ volatile("int $0x80"
			 : "=a"(r), "+r"(rdi), "+r"(rsi)
			 : "a"(nr)
			 : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
	return r;
}

static void write_(const char *s, u64 len) { sys(SYS_WRITE, (u64)s, len); }

static void __attribute__((noreturn)) sys_exit(u32 code)
{
	sys(SYS_EXIT, code, 0);
	__builtin_unreachable();
}

static void __attribute__((noreturn)) sys_idle(void)
{
	sys(SYS_IDLE, 0, 0);
	__builtin_unreachable();
}

static void puts_(const char *s) { write_(s, str_len(s)); }

void __attribute__((noreturn)) fail(const char *msg)
{
	puts_(msg);
	sys_exit(1);
}

static void print_result(const char *workload, u64 v)
{
	char b[64];
	u64 n = str_cpy(b, "result ");
	n += str_cpy(b + n, workload);
	b[n++] = ' ';
	n += fmt_hex(b + n, v, 16);
	b[n++] = '\n';
	write_(b, n);
}

/* ---- the workload page space: RAM at or above reserved_end, region by region ---- */

struct space {
	u64 base[4], pages[4];
	u64 n, total;
};

static void space_init(struct space *sp, const struct boot_params *bp)
{
	sp->n = sp->total = 0;
	for (u64 i = 0; i < bp->ram_region_count && i < 4; i++) {
		u64 b = bp->ram[i].base, e = b + bp->ram[i].size;
		if (b < RESERVED_END)
			b = RESERVED_END;
		b = (b + 4095) & ~4095UL;
		e &= ~4095UL;
		if (e <= b)
			continue;
		sp->base[sp->n] = b;
		sp->pages[sp->n] = (e - b) >> 12;
		sp->total += sp->pages[sp->n];
		sp->n++;
	}
}

/* address of page i of the space */
static inline u64 page_addr(const struct space *sp, u64 i)
{
	for (u64 r = 0; r < sp->n; r++) {
		if (i < sp->pages[r])
			return sp->base[r] + (i << 12);
		i -= sp->pages[r];
	}
	return ~0UL;
}

/* fill pattern: word at address a = splitmix64(seed ^ a) */
static void fill_page(u64 p, u64 seed)
{
	u64 *w = (u64 *)p;
	for (u64 j = 0; j < 512; j++)
		w[j] = splitmix64(seed ^ (p + 8 * j));
}

/* page hash: mix64(p + sum_j w[j] * (2j + 1)) */
static u64 page_hash(u64 p)
{
	const u64 *w = (const u64 *)p;
	u64 s = 0;
	for (u64 j = 0; j < 512; j++)
		s += w[j] * (2 * j + 1);
	return mix64(p + s);
}

/* ---- seeded permutation of [0, n): a bijection on k-bit numbers, cycle-walked ---- */

struct perm {
	u64 mask, shift, rk[4];
};

static void perm_init(struct perm *pm, u64 n, u64 key)
{
	u64 k = 1;
	while ((1UL << k) < n)
		k++;
	pm->mask = (1UL << k) - 1;
	pm->shift = (k + 1) / 2;
	for (u64 r = 0; r < 4; r++)
		pm->rk[r] = splitmix64(key + r);
}

static inline u64 perm_apply(const struct perm *pm, u64 x)
{
	for (int r = 0; r < 4; r++) {
		x = ((x ^ pm->rk[r]) * 0xd6e8feb86659fd93ULL) & pm->mask;
		x ^= x >> pm->shift;
	}
	return x;
}

/* ---- fill ---- */

static volatile u64 fill_written = 0, fill_read = 0, fill_sum = 0;

static void __attribute__((noreturn)) w_fill(u64 cpu, const struct boot_params *bp, const struct space *sp)
{
	u64 n = bp->vcpu_count, t = sp->total, seed = bp->seed;
	for (u64 i = t * cpu / n; i < t * (cpu + 1) / n; i++)
		fill_page(page_addr(sp, i), seed);
	__atomic_fetch_add(&fill_written, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&fill_written, __ATOMIC_ACQUIRE) < n)
		cpu_relax();

	/* read back the next vCPU's pages */
	u64 c = (cpu + 1) % n, s = 0;
	for (u64 i = t * c / n; i < t * (c + 1) / n; i++)
		s += page_hash(page_addr(sp, i));
	__atomic_fetch_add(&fill_sum, s, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&fill_read, 1, __ATOMIC_SEQ_CST);
	if (cpu != 0)
		sys_idle();
	while (__atomic_load_n(&fill_read, __ATOMIC_ACQUIRE) < n)
		cpu_relax();
	print_result("fill", __atomic_load_n(&fill_sum, __ATOMIC_ACQUIRE));
	sys_exit(0);
}

/* ---- touch ---- */

/* One access per page: an exchange reads and writes the word in one
   instruction, so fresh memory takes one write fault, not a read fault on the
   zero page followed by a copy-on-write fault. */
static inline u64 touch_page(u64 p, u64 acc)
{
	u64 nv = splitmix64(acc ^ p);
	u64 v = __atomic_exchange_n((u64 *)p, nv, __ATOMIC_RELAXED);
	return nv ^ v;
}

static u64 working_set_pages(const struct boot_params *bp, const struct space *sp)
{
	u64 n = bp->working_set_bytes >> 12;
	if (n > sp->total)
		fail("error working set larger than guest RAM\n");
	return n;
}

static void __attribute__((noreturn)) w_touch(const struct boot_params *bp, const struct space *sp)
{
	u64 n = working_set_pages(bp, sp), seed = bp->seed, acc = seed;
	switch (bp->touch_order) {
	case 0:                 /* sequential */
		for (u64 i = 0; i < n; i++)
			acc = touch_page(page_addr(sp, i), acc);
		break;
	case 1: {               /* seeded random permutation */
		struct perm pm;
		perm_init(&pm, n, seed);
		for (u64 x = 0; x <= pm.mask; x++) {
			u64 i = perm_apply(&pm, x);
			if (i < n)
				acc = touch_page(page_addr(sp, i), acc);
		}
		break;
	}
	case 2: {               /* strided: 0, s, 2s, ..., then 1, 1+s, ... */
		u64 s = bp->touch_stride_pages ? bp->touch_stride_pages : 1;
		for (u64 r = 0; r < s && r < n; r++)
			for (u64 i = r; i < n; i += s)
				acc = touch_page(page_addr(sp, i), acc);
		break;
	}
	default:
		fail("error unknown touch_order\n");
	}
	print_result("touch", acc);
	sys_exit(0);
}

/* ---- function ---- */

/* invocation k >= 1: four reads per page, pages in a permuted order; the words
   read are written back in write_percent of the pages (those whose hash says so) */
static u64 fn_invoke(const struct space *sp, u64 n, u64 seed, u64 k, u64 write_percent)
{
	u64 key = splitmix64(seed + k * GOLDEN), acc = key;
	struct perm pm;
	perm_init(&pm, n, key);
	for (u64 x = 0; x <= pm.mask; x++) {
		u64 i = perm_apply(&pm, x);
		if (i >= n)
			continue;
		u64 p = page_addr(sp, i);
		u64 h = mix64(key ^ p), j0 = h & 127;
		int write = (h >> 7) % 100 < write_percent;
		for (u64 m = 0; m < 4; m++) {
			volatile u64 *w = (volatile u64 *)(p + 8 * (j0 + 128 * m));
			u64 nv = splitmix64(*w ^ acc);
			if (write)
				*w = nv;
			acc += nv;
		}
	}
	return acc;
}

static int line_is(const char *line, u64 len, const char *s)
{
	u64 i = 0;
	for (; i < len; i++)
		if (s[i] != line[i])
			return 0;
	return s[i] == 0;
}

/* Pages function's init fills: more than the working set stands for what a real
   guest keeps in memory (runtime, heap, caches) but an invocation does not read. */
static u64 resident_pages(const struct boot_params *bp, const struct space *sp, u64 n)
{
	if (bp->resident_bytes == 0)
		return n;
	u64 r = bp->resident_bytes >> 12;
	if (r < n)
		fail("error resident set smaller than working set\n");
	if (r > sp->total)
		fail("error resident set larger than guest RAM\n");
	return r;
}

/* Share of the pages an invocation reads that it writes: a serverless call reads
   much of its memory and writes little. 0 (boot pages from before the field): all. */
static u64 write_percent(const struct boot_params *bp)
{
	if (bp->write_percent == 0)
		return 100;
	if (bp->write_percent > 100)
		fail("error write percent above 100\n");
	return bp->write_percent;
}

static void __attribute__((noreturn)) w_function(const struct boot_params *bp, const struct space *sp)
{
	u64 n = working_set_pages(bp, sp), seed = bp->seed, sum = 0;
	u64 r = resident_pages(bp, sp, n), wp = write_percent(bp);
	for (u64 i = 0; i < r; i++) {
		u64 p = page_addr(sp, i);
		fill_page(p, seed);
		sum += page_hash(p);
	}
	print_result("function", sum);         /* invocation 0 */

	u64 k = 0, len = 0;
	char line[LINE_MAX];
	for (;;) {
		while (rx_tail == rx_head)
			sys(SYS_WAIT_INPUT, 0, 0);
		u32 t = rx_tail;
		char c = (char)rx_buf[t & (RX_SIZE - 1)];
		barrier();
		rx_tail = t + 1;
		if (c != '\n' && c != '\r') {
			if (len < LINE_MAX)
				line[len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
			continue;
		}
		if (len == 0)
			continue;
		if (line_is(line, len, "invoke") || line_is(line, len, "i")) {
			u64 r = fn_invoke(sp, n, seed, ++k, wp);
			guest_status.invocations = k;
			print_result("function", r);
		} else {
			char b[32 + LINE_MAX];
			u64 m = str_cpy(b, "error unknown command ");
			for (u64 i = 0; i < len; i++)
				b[m++] = line[i];
			b[m++] = '\n';
			write_(b, m);
		}
		len = 0;
	}
}

void __attribute__((noreturn)) user_main(u64 cpu)
{
	const struct boot_params *bp = bootp;
	if (cpu == 0)
		map_ram(bp);            /* releases the APs */
	struct space sp;
	space_init(&sp, bp);
	switch (bp->workload) {
	case WL_FILL:
		w_fill(cpu, bp, &sp);
	case WL_TOUCH:
		w_touch(bp, &sp);
	case WL_FUNCTION:
		w_function(bp, &sp);
	case WL_FAULT:          /* test of the panic path: #PF at CPL3 */
		(void)*(volatile u64 *)0xdead000000UL;
		fail("error fault workload did not fault\n");
	default:
		fail("error unknown workload\n");
	}
}

/*
 * Thaw test guest, CPL0 part. Every instruction here is emulated under PVM
 * (about 2 million per second), so this file does only what must run at
 * CPL0: the BSP's first line, device and interrupt set-up, per-vCPU
 * TSS/IDT/LAPIC set-up, and the UART interrupt and panic handlers. The GDT,
 * TSSs, IDT and boot page tables are static (entry.S); the page tables for
 * RAM are written at CPL3 (map.c) and installed by SYS_MAP_RAM (entry.S).
 */
#include "guest.h"

/* With -fno-zero-initialized-in-bss these are in .data: they are zero even
   if the VMM did not hand over zeroed RAM. */
struct guest_status guest_status = { { 0 }, 0, 0, 0, 0 };
volatile u32 rx_head = 0, rx_tail = 0;
volatile u32 ap_go = 0;                 /* set by SYS_MAP_RAM: page tables final */
const struct boot_params *bootp = 0;
u32 cpu_1g_pages = 0;                   /* CPUID pdpe1gb, as CPL0 sees it */

u8 rx_buf[RX_SIZE];                     /* .bss */

void enter_user(u64 cpu, u64 rsp) __attribute__((noreturn));
void idle_loop(void) __attribute__((noreturn));
void kmain(u64 cpu, const struct boot_params *bp) __attribute__((noreturn));
void kpanic(u64 vec, u64 err, u64 rip, u64 cr2) __attribute__((noreturn));
void uart_isr(void);

static inline volatile u32 *lapic(u32 reg) { return (volatile u32 *)((u64)LAPIC_BASE + reg); }

static void ioapic_write(u32 reg, u32 val)
{
	*(volatile u32 *)(u64)IOAPIC_BASE = reg;
	*(volatile u32 *)((u64)IOAPIC_BASE + 0x10) = val;
}

static void __attribute__((noreturn)) kexit(u32 code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void __attribute__((noreturn)) kfail(const char *msg)
{
	uart_write(msg, str_len(msg));
	kexit(1);
}

static int cpu_has_1g_pages(void)
{
	u32 a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000), "c"(0));
	if (a < 0x80000001)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
	return (d >> 26) & 1;
}

static void uart_drain(void)
{
	for (;;) {
		u8 lsr = inb(UART_LSR);
		if (lsr & 1) {
			u8 c = inb(UART_RBR);
			guest_status.rx_bytes++;
			u32 h = rx_head;
			if (h - rx_tail < RX_SIZE) {
				rx_buf[h & (RX_SIZE - 1)] = c;
				barrier();
				rx_head = h + 1;
			}
			continue;
		}
		u8 iir = inb(UART_IIR);
		if (iir & 1)
			break;                  /* no interrupt pending: line is low */
		if ((iir & 0x0e) == 0)
			(void)inb(UART_MSR);    /* modem status change */
	}
}

void uart_isr(void)
{
	guest_status.uart_irqs++;
	uart_drain();
	*lapic(0xb0) = 0;               /* EOI */
}

void kpanic(u64 vec, u64 err, u64 rip, u64 cr2)
{
	char b[128];
	u64 n = str_cpy(b, "panic: vector ");
	n += fmt_dec(b + n, vec);
	n += str_cpy(b + n, " err 0x");
	n += fmt_hex(b + n, err, 0);
	n += str_cpy(b + n, " rip 0x");
	n += fmt_hex(b + n, rip, 0);
	n += str_cpy(b + n, " cr2 0x");
	n += fmt_hex(b + n, cr2, 0);
	b[n++] = '\n';
	uart_write(b, n);
	kexit(0xe0 + (u32)vec);
}

static void bsp_init(const struct boot_params *bp)
{
	outb(0x21, 0xff);               /* mask both PICs */
	outb(0xa1, 0xff);
	outb(UART_LCR, 0x03);           /* 8N1, DLAB off */
	outb(UART_FCR, 0x07);           /* FIFO on, clear RX/TX, RX trigger 1 byte */
	if (bp->magic != BOOT_MAGIC || bp->version != 1)
		kfail("error bad boot params\n");

	/* first line, as early as possible */
	u64 nreg = bp->ram_region_count, mem = 0;
	for (u64 i = 0; i < nreg && i < 4; i++)
		mem += bp->ram[i].size;
	char b[160];
	u64 n = str_cpy(b, "thaw-guest 1 vcpus=");
	n += fmt_dec(b + n, bp->vcpu_count);
	n += str_cpy(b + n, " mem=");
	n += fmt_dec(b + n, mem >> 20);
	n += str_cpy(b + n, " workload=");
	n += str_cpy(b + n, workload_name(bp->workload));
	n += str_cpy(b + n, " seed=");
	n += fmt_dec(b + n, bp->seed);
	b[n++] = '\n';
	uart_write(b, n);

	if (bp->vcpu_count < 1 || bp->vcpu_count > MAX_VCPUS)
		kfail("error vcpu_count out of range\n");
	if (nreg < 1 || nreg > 4)
		kfail("error ram_region_count out of range\n");

	outb(UART_LCR, 0x83);           /* divisor 1 (115200), then 8N1 */
	outb(UART_DLL, 1);
	outb(UART_DLM, 0);
	outb(UART_LCR, 0x03);
	outb(UART_MCR, 0x0b);           /* DTR RTS OUT2 */
	outb(UART_IER, 0x01);           /* receive data available */

	/* CPUID as the VMM configured it: under PVM a CPUID at CPL3 would
	   return the host's leaves. */
	cpu_1g_pages = (u32)cpu_has_1g_pages();

	/* IOAPIC pin 4 -> vector 0x24, APIC ID 0, fixed, physical, edge, high */
	ioapic_write(0x10 + 2 * UART_IRQ + 1, 0);
	ioapic_write(0x10 + 2 * UART_IRQ, VEC_UART);
	uart_drain();                   /* input that came before the pin was routed */

	bootp = bp;
}

void kmain(u64 cpu, const struct boot_params *bp)
{
	static const struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { 4095, IDT_ADDR };

	if (cpu == 0)
		bsp_init(bp);
	__asm__ volatile("ltr %w0" :: "r"((u32)(SEL_TSS0 + 16 * cpu)));
	__asm__ volatile("lidt %0" :: "m"(idtr));
	*lapic(0xf0) = 0x1ff;           /* SVR: enabled, spurious vector 0xff */
	if (cpu == 0)
		*lapic(0x350) = 0x10000;        /* LINT0 masked (the PIC is masked too) */
	u64 count = bp->lapic_timer_initial_count;
	if (count) {
		*lapic(0x3e0) = 0xb;            /* divide by 1 */
		*lapic(0x320) = 0x20000 | VEC_TIMER; /* periodic */
		*lapic(0x380) = count > 0xffffffffUL ? 0xffffffffU : (u32)count;
	}
	__atomic_fetch_add(&guest_status.cpus_online, 1, __ATOMIC_SEQ_CST);
	if (cpu != 0 && (cpu >= bp->vcpu_count || bp->workload != WL_FILL))
		idle_loop();
	enter_user(cpu, USTACK_TOP(cpu) - 8);
}

/*
 * Thaw test guest: memory layout, ABI constants and small helpers shared by
 * the assembly entry code (entry.S), the CPL0 C code (kernel.c) and the CPL3
 * workloads (user.c). Everything here is part of the image; nothing is
 * configured at run time except what the boot parameters page says.
 */
#ifndef THAW_GUEST_H
#define THAW_GUEST_H

/* ---- image and fixed memory layout (guest physical = guest virtual) ---- */
#define IMAGE_BASE      0x100000        /* the VMM loads the flat image here  */
#define MAX_VCPUS       16

/* first page of the image (section .text.fixed, see entry.S) */
#define HDR_OFF         0x10            /* image header                       */
#define GDT_ADDR        (IMAGE_BASE + 0x100)
#define TSS_ADDR        (IMAGE_BASE + 0x800) /* MAX_VCPUS TSSs, TSS_STRIDE apart */
#define TSS_STRIDE      0x70
#define VEC_ADDR        (IMAGE_BASE + 0x1000) /* interrupt entry points        */
#define IDT_ADDR        (IMAGE_BASE + 0x2000)
#define PML4_ADDR       (IMAGE_BASE + 0x3000)
#define PDPT_ADDR       (IMAGE_BASE + 0x4000) /* covers 0..512 GiB             */
#define PD0_ADDR        (IMAGE_BASE + 0x5000) /* GiB 0 (boot: 0..4 MiB mapped)  */
#define PD3_ADDR        (IMAGE_BASE + 0x6000) /* GiB 3: IOAPIC + LAPIC pages    */
#define FIXED_END       (IMAGE_BASE + 0x7000) /* C code and data follow         */
#define MB_HDR_ADDR     (IMAGE_BASE + 0xf00)  /* multiboot header, after the TSSs */

/* boot parameters page: the VMM puts it here (multiboot: the guest copies it here) */
#define BOOT_PARAMS_ADDR 0x7000

/*
 * Multiboot (version 1), for QEMU's -kernel: magic, and flags with only
 * bit 16 (the load addresses are in the header: a flat image, not ELF).
 * On that path the boot parameters come as the first module (-initrd) and
 * APs are started at TRAMP_ADDR (below 1 MiB, page aligned).
 */
#define MB_MAGIC        0x1badb002
#define MB_FLAGS        0x00010000
#define MB_BOOT_MAGIC   0x2badb002      /* EAX at the multiboot entry */
#define MB_INFO_MODS    0x8             /* information flags: modules present */
#define TRAMP_ADDR      0x8000
#define ICR_INIT_OTHERS 0x000c4500      /* INIT, level assert, all excluding self */
#define ICR_SIPI_OTHERS (0x000c4600 | (TRAMP_ADDR >> 12)) /* start-up, all excluding self */

/* entry points inside the vector page */
#define VEC_EXC(v)      (VEC_ADDR + 16 * (v))   /* exceptions 0..31           */
#define VEC_TIMER_ADDR  (VEC_ADDR + 0x200)
#define VEC_UART_ADDR   (VEC_ADDR + 0x240)
#define VEC_SYSCALL_ADDR (VEC_ADDR + 0x280)
#define VEC_UD_ADDR     (VEC_ADDR + 0x340) /* #UD: INT 0x80 fix-up for PVM */
#define VEC_SPUR_ADDR   (VEC_ADDR + 0x3f0)

/*
 * Stacks: fixed, above the image's .bss (linker-checked), below RESERVED_END.
 * vCPU i owns [STACKS_BASE + i * 64 KiB, + 64 KiB): the kernel stack (RSP0)
 * in its first 16 KiB, the user stack above it. So (rsp - STACKS_BASE) >> 16
 * is the vCPU index on either stack; the timer interrupt relies on that.
 */
#define STACKS_BASE     0x300000
#define STACK_SHIFT     16
#define KSTACK_SIZE     0x4000
#define KSTACK_TOP(i)   (STACKS_BASE + ((i) << STACK_SHIFT) + KSTACK_SIZE)
#define USTACK_TOP(i)   (STACKS_BASE + (((i) + 1) << STACK_SHIFT))
#define RESERVED_END    0x400000        /* header reserved_end (2 MiB aligned)*/

/* GDT selectors */
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_UDATA       0x1b            /* GDT index 3, RPL 3 */
#define SEL_UCODE       0x23            /* GDT index 4, RPL 3 */
#define SEL_TSS0        0x28            /* + 16 * vcpu        */

/* interrupt vectors */
#define VEC_TIMER       0x20
#define VEC_UART        0x24
#define VEC_SYSCALL     0x80
#define VEC_SPURIOUS    0xff

/*
 * System calls: INT 0x80 (interrupt gate, DPL 3), number in rax, arguments
 * in rdi, rsi; result in rax; clobbers the caller-saved registers.
 * Under PVM (this project's test machines) an INT 0x80 at CPL3 raises #UD
 * instead; the #UD handler recognises the instruction and runs the system
 * call (see entry.S). PVM also forces IOPL=0 in user mode, so port I/O at
 * CPL3 raises #GP there: user code writes to the UART through SYS_WRITE.
 * (SYSCALL is no alternative: under PVM it reaches MSR_LSTAR still at CPL3.)
 */
#define SYS_EXIT        0               /* exit(code): debug-exit port, never returns */
#define SYS_WAIT_INPUT  1               /* sleep (sti; hlt) until the RX ring is non-empty */
#define SYS_IDLE        2               /* sti; hlt forever at CPL0 */
#define SYS_WRITE       3               /* write(buf, len) to the UART */
#define SYS_MAP_RAM     4               /* map_ram(pdpt): PML4[0] = pdpt, reload CR3, release the APs */

/* devices */
#define COM1            0x3f8
#define UART_RBR        (COM1 + 0)
#define UART_THR        (COM1 + 0)
#define UART_DLL        (COM1 + 0)
#define UART_IER        (COM1 + 1)
#define UART_DLM        (COM1 + 1)
#define UART_IIR        (COM1 + 2)
#define UART_FCR        (COM1 + 2)
#define UART_LCR        (COM1 + 3)
#define UART_MCR        (COM1 + 4)
#define UART_LSR        (COM1 + 5)
#define UART_MSR        (COM1 + 6)
#define UART_IRQ        4
#define DEBUG_EXIT_PORT 0x501
#define LAPIC_BASE      0xfee00000
#define IOAPIC_BASE     0xfec00000

#define BOOT_MAGIC      0x544f4f4257414854ULL /* "THAWBOOT" */
#define IMAGE_MAGIC     0x3154534757414854    /* "THAWGST1" */

#define RX_SIZE         4096            /* UART receive ring, power of two */

#ifndef __ASSEMBLER__

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

/* boot parameters page (ABI) */
struct boot_params {
	u64 magic;              /* 0x00 */
	u64 version;            /* 0x08 */
	u64 vcpu_count;         /* 0x10 */
	u64 workload;           /* 0x18 */
	u64 seed;               /* 0x20 */
	u64 working_set_bytes;  /* 0x28 */
	u64 touch_order;        /* 0x30 */
	u64 touch_stride_pages; /* 0x38 */
	u64 ram_region_count;   /* 0x40 */
	struct { u64 base, size; } ram[4]; /* 0x48 */
	u64 lapic_timer_initial_count;     /* 0x88 */
	u64 resident_bytes;     /* 0x90: function only; 0 = working_set_bytes */
	u64 write_percent;      /* 0x98: function only; 0 = 100 */
};

enum { WL_FILL = 0, WL_TOUCH = 1, WL_FUNCTION = 2, WL_FAULT = 3 };

/*
 * Status block: counters the VMM or a test harness may read from guest
 * memory. Its address is in the image header at offset 0x30.
 */
struct guest_status {
	u64 ticks[MAX_VCPUS];   /* LAPIC timer interrupts per vCPU */
	u64 cpus_online;        /* vCPUs that finished their CPL0 setup */
	u64 uart_irqs;          /* UART interrupts taken */
	u64 rx_bytes;           /* bytes received (including dropped) */
	u64 invocations;        /* function invocations completed */
};

/* kernel.c */
extern struct guest_status guest_status;
extern volatile u32 rx_head, rx_tail;
extern u8 rx_buf[RX_SIZE];
extern const struct boot_params *bootp;

extern u32 cpu_1g_pages;

/* user.c, map.c */
void user_main(u64 cpu);
void map_ram(const struct boot_params *bp);
void __attribute__((noreturn)) fail(const char *msg);
long sys(long nr, u64 a0, u64 a1);

/* lib.c: formatting works at any CPL; uart_write at CPL0 only */
void uart_write(const char *s, u64 len);
u64 fmt_dec(char *buf, u64 v);
u64 fmt_hex(char *buf, u64 v, int digits); /* digits 0: no leading zeros */
u64 str_len(const char *s);
u64 str_cpy(char *dst, const char *s);
const char *workload_name(u64 workload);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* the hash functions every checksum is built from (see README.md) */
#define GOLDEN 0x9e3779b97f4a7c15ULL
static inline u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static inline u64 splitmix64(u64 x) { return mix64(x + GOLDEN); }

#endif /* __ASSEMBLER__ */
#endif

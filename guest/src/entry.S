/*
 * Thaw test guest: the fixed first seven pages of the image and the CPL0
 * assembly. Section .fixed is linked first, at IMAGE_BASE, so every
 * .org below is an absolute guest address (IMAGE_BASE + offset) and the
 * GDT, TSSs, IDT and boot page tables are complete in the image: no CPL0
 * instruction (they are emulated, ~2 M/s under PVM) is spent building them.
 *
 *   +0x0000 jmp; image header at +0x10; GDT descriptor; entry code
 *   +0x0100 GDT (kernel code/data, user data/code, one TSS per vCPU)
 *   +0x0800 TSSs (RSP0 = top of the vCPU's kernel stack)
 *   +0x0f00 multiboot header (for loaders that start the image that way: QEMU -kernel)
 *   +0x1000 interrupt entry points (exception stubs, timer, UART, int 0x80)
 *   +0x2000 IDT
 *   +0x3000 PML4, +0x4000 PDPT, +0x5000 PD for GiB 0, +0x6000 PD for GiB 3
 */
#include "guest.h"

	.section .fixed, "awx"
	.code32
	.globl _start
_start:
	jmp	start32

	.org	HDR_OFF
	.globl	image_header
image_header:
	.quad	IMAGE_MAGIC		/* +0x10 magic "THAWGST1" */
	.quad	1			/* +0x18 header_version */
	.quad	RESERVED_END		/* +0x20 reserved_end */
	.quad	MAX_VCPUS		/* +0x28 max_vcpus */
	.quad	guest_status		/* +0x30 (extension) status block address */

	.org	0x40
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	GDT_ADDR

/*
 * 32-bit protected mode, paging off, all vCPUs at once. ESI = vCPU index,
 * EBX = boot parameters. The BSP goes straight to long mode on the static
 * page tables (they map 0..4 MiB and the IOAPIC/LAPIC); APs wait until the
 * BSP has installed the page tables for all RAM (ap_go, set by SYS_MAP_RAM),
 * then take the same path.
 */
	.org	0x50
start32:
	lgdtl	gdt_desc
	cmpl	$MAX_VCPUS, %esi
	jae	park32
	testl	%esi, %esi
	jz	1f
2:	pause
	cmpl	$0, ap_go
	je	2b
1:	movl	$0x620, %eax		/* CR4: PAE | OSFXSR | OSXMMEXCPT */
	movl	%eax, %cr4
	movl	$PML4_ADDR, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER.LME */
	movl	$0x100, %eax
	xorl	%edx, %edx
	wrmsr
	movl	$0x80000033, %eax	/* CR0: PG | NE | ET | MP | PE */
	movl	%eax, %cr0
	ljmpl	$SEL_KCODE, $long64
park32:					/* vCPU index >= MAX_VCPUS: never used */
	cli
	hlt
	jmp	park32

	.code64
long64:
	movl	$SEL_KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%esi, %edi		/* arg 0: vCPU index (zero-extended) */
	movl	%edi, %eax
	shll	$STACK_SHIFT, %eax
	leaq	STACKS_BASE + KSTACK_SIZE(%rax), %rsp	/* KSTACK_TOP(vcpu) */
	movl	%ebx, %esi		/* arg 1: boot parameters */
	call	kmain			/* never returns */
	jmp	park32

/* ---- GDT ---- */
	.org	0x100
gdt:
	.quad	0			/* 0x00 null */
	.quad	0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad	0x00cf92000000ffff	/* 0x10 kernel data */
	.quad	0x00cff2000000ffff	/* 0x18 user data, DPL 3 */
	.quad	0x00affa000000ffff	/* 0x20 user code, 64-bit, DPL 3 */
	.set	i, 0			/* 0x28 + 16 * i: 64-bit TSS of vCPU i */
	.rept	MAX_VCPUS
	.long	0x67 | (((TSS_ADDR + i * TSS_STRIDE) & 0xffff) << 16)
	.long	(((TSS_ADDR + i * TSS_STRIDE) >> 16) & 0xff) | (0x89 << 8) | ((((TSS_ADDR + i * TSS_STRIDE) >> 24) & 0xff) << 24)
	.quad	0
	.set	i, i + 1
	.endr
gdt_end:

/* ---- TSSs: RSP0 only; I/O bitmap offset beyond the limit (IOPL=3 rules) ---- */
	.org	TSS_ADDR - IMAGE_BASE
	.set	i, 0
	.rept	MAX_VCPUS
	.long	0
	.quad	KSTACK_TOP(i)		/* RSP0 */
	.fill	90, 1, 0
	.word	104			/* I/O map base = size: no bitmap */
	.fill	TSS_STRIDE - 104, 1, 0
	.set	i, i + 1
	.endr

/*
 * ---- multiboot (version 1) header, a.out kludge: a flat image ----
 * Only for loaders that start kernels this way (QEMU's -kernel). The Thaw
 * boot ABI does not use it; the VMM enters at _start as before.
 */
	.org	MB_HDR_ADDR - IMAGE_BASE
	.globl	multiboot_header
multiboot_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	multiboot_header	/* header_addr */
	.long	IMAGE_BASE		/* load_addr: the file from its first byte */
	.long	__image_end		/* load_end_addr */
	.long	__bss_end		/* bss_end_addr: the loader keeps its own data above */
	.long	mb_entry		/* entry_addr */

/* ---- interrupt entry points ---- */
	.org	VEC_ADDR - IMAGE_BASE
	.set	v, 0
	.rept	32
	.org	VEC_ADDR - IMAGE_BASE + 16 * v
	.if	(v == 8) || ((v >= 10) && (v <= 14)) || (v == 17) || (v == 21) || (v == 29) || (v == 30)
	pushq	$v			/* CPU pushed an error code */
	.else
	pushq	$0
	pushq	$v
	.endif
	jmp	exc_common
	.set	v, v + 1
	.endr

	/* LAPIC timer: count ticks of this vCPU, EOI. The vCPU index comes from
	   the stack pointer (see STACKS_BASE in guest.h). */
	.org	VEC_TIMER_ADDR - IMAGE_BASE
	pushq	%rax
	leaq	-STACKS_BASE(%rsp), %rax
	shrq	$STACK_SHIFT, %rax
	incq	guest_status(, %rax, 8)
	movl	$(LAPIC_BASE + 0xb0), %eax	/* through a register: no sign extension */
	movl	$0, (%rax)
	popq	%rax
	iretq

	/* UART (IOAPIC pin 4): drain the UART into the RX ring, EOI */
	.org	VEC_UART_ADDR - IMAGE_BASE
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	call	uart_isr
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	iretq

	/*
	 * INT 0x80 (interrupt gate, DPL 3): IF=0, on the vCPU's kernel stack.
	 * rax = number, rdi/rsi = arguments, result in rax.
	 */
	.org	VEC_SYSCALL_ADDR - IMAGE_BASE
syscall_entry:
	cmpl	$SYS_WRITE, %eax
	je	4f
	cmpl	$SYS_MAP_RAM, %eax
	je	5f
	cmpl	$SYS_WAIT_INPUT, %eax
	je	2f
	cmpl	$SYS_IDLE, %eax
	je	idle_loop
	testl	%eax, %eax
	jnz	9f
	movl	%edi, %eax		/* SYS_EXIT */
	movl	$DEBUG_EXIT_PORT, %edx
	outl	%eax, %dx
1:	cli
	hlt
	jmp	1b
2:	movl	rx_head, %ecx		/* SYS_WAIT_INPUT: IF=0 here, so no lost wakeup */
	cmpl	rx_tail, %ecx
	jne	3f
	sti				/* hlt runs in the sti shadow */
	hlt
	cli
	jmp	2b
3:	xorl	%eax, %eax
	iretq
4:	call	uart_write		/* SYS_WRITE(buf, len) */
	xorl	%eax, %eax
	iretq
5:	orq	$7, %rdi		/* SYS_MAP_RAM(pdpt): one page-table write, */
	movq	%rdi, PML4_ADDR		/* a TLB flush, and the APs may go */
	movq	%cr3, %rax
	movq	%rax, %cr3
	movl	$1, ap_go
	xorl	%eax, %eax
	iretq
9:	movq	$-1, %rax
	iretq

	/*
	 * #UD. Under PVM an INT 0x80 at CPL3 arrives here with RIP on the
	 * instruction: step over it and run the system call with this frame.
	 * Anything else is a panic.
	 */
	.org	VEC_UD_ADDR - IMAGE_BASE
ud_entry:
	testb	$3, 8(%rsp)		/* from CPL3? */
	jz	1f
	pushq	%rax
	movq	8(%rsp), %rax		/* faulting RIP (user memory is mapped) */
	cmpw	$0x80cd, (%rax)		/* cd 80 = int $0x80 */
	popq	%rax
	jne	1f
	addq	$2, (%rsp)
	jmp	syscall_entry
1:	pushq	$0
	pushq	$6
	jmp	exc_common

	.org	VEC_SPUR_ADDR - IMAGE_BASE	/* LAPIC spurious: no EOI */
	iretq

exc_common:				/* stack: vector, error code, rip, cs, ... */
	movq	(%rsp), %rdi
	movq	8(%rsp), %rsi
	movq	16(%rsp), %rdx
	movq	%cr2, %rcx
	andq	$-16, %rsp
	call	kpanic			/* never returns */
1:	cli
	hlt
	jmp	1b

/* ---- IDT ---- */
	.macro	gate addr, dpl
	.word	(\addr) & 0xffff
	.word	SEL_KCODE
	.byte	0
	.byte	0x8e | ((\dpl) << 5)	/* present 64-bit interrupt gate */
	.word	((\addr) >> 16) & 0xffff
	.long	0
	.long	0
	.endm

	.org	IDT_ADDR - IMAGE_BASE
	.set	v, 0
	.rept	32
	.if	v == 6
	gate	VEC_UD_ADDR, 0
	.else
	gate	VEC_EXC(v), 0
	.endif
	.set	v, v + 1
	.endr
	.org	IDT_ADDR - IMAGE_BASE + 16 * VEC_TIMER
	gate	VEC_TIMER_ADDR, 0
	.org	IDT_ADDR - IMAGE_BASE + 16 * VEC_UART
	gate	VEC_UART_ADDR, 0
	.org	IDT_ADDR - IMAGE_BASE + 16 * VEC_SYSCALL
	gate	VEC_SYSCALL_ADDR, 3
	.org	IDT_ADDR - IMAGE_BASE + 16 * VEC_SPURIOUS
	gate	VEC_SPUR_ADDR, 0

/*
 * ---- boot page tables (identity, U/S set): 0..4 MiB, IOAPIC, LAPIC ----
 * SYS_MAP_RAM later points PML4[0] at the PDPT that map.c builds for all
 * RAM (which reuses PD3 for the IOAPIC and LAPIC pages).
 */
	.org	PML4_ADDR - IMAGE_BASE
	.quad	PDPT_ADDR + 7
	.org	PDPT_ADDR - IMAGE_BASE
	.quad	PD0_ADDR + 7		/* GiB 0 */
	.quad	0, 0
	.quad	PD3_ADDR + 7		/* GiB 3 */
	.org	PD0_ADDR - IMAGE_BASE
	.quad	0x000000 | 0x87		/* 0..2 MiB: P RW US PS */
	.quad	0x200000 | 0x87		/* 2..4 MiB: image, stacks */
	.org	PD3_ADDR - IMAGE_BASE + 8 * ((IOAPIC_BASE >> 21) & 511)
	.quad	IOAPIC_BASE | 0x9f	/* P RW US PWT PCD PS */
	.quad	LAPIC_BASE | 0x9f
	.org	FIXED_END - IMAGE_BASE

/* ---- ordinary code ---- */
	.text
	.globl	enter_user		/* enter_user(cpu, user rsp): iretq to user_main(cpu) */
enter_user:
	pushq	$SEL_UDATA
	pushq	%rsi
	pushq	$0x3202			/* IF | IOPL=3 | bit 1 */
	pushq	$SEL_UCODE
	pushq	$user_main
	iretq

	.globl	idle_loop		/* CPL0 idle: sti; hlt forever */
idle_loop:
	sti
1:	hlt
	jmp	1b

/*
 * ---- multiboot entry (QEMU -kernel) ----
 * The loader enters here in 32-bit protected mode, paging off, flat
 * segments from its own GDT, EAX = 0x2BADB002, EBX = the multiboot
 * information; ESP is undefined and the APs wait for INIT/SIPI. So: copy
 * the boot parameters page from the first module (QEMU's -initrd) to
 * BOOT_PARAMS_ADDR (firmware clears that area on a PC before the loader
 * runs, so it cannot be placed there directly), set up what _start expects
 * (our GDT, flat data segments, EBX = boot parameters, ESI = 0, ESP = 0),
 * start the APs through a real-mode trampoline, and join the common path.
 * Without a module the page at BOOT_PARAMS_ADDR is taken as it is. RAM is
 * what the boot parameters say; the loader's memory map is not read. The
 * Thaw boot ABI never comes here. Section .multiboot is linked after .data,
 * so every other byte of the image keeps the address it has without it.
 */
	.section .multiboot, "ax"
	.macro	send_ipi icr		/* no stack here: ICR low, then wait until delivered */
	movl	$(\icr), LAPIC_BASE + 0x300
9:	pause
	testl	$0x1000, LAPIC_BASE + 0x300
	jnz	9b
	.endm

	.code32
mb_entry:
	cli
	cld
	lgdtl	gdt_desc
	movl	$SEL_KDATA, %ecx
	movl	%ecx, %ds
	movl	%ecx, %es
	movl	%ecx, %fs
	movl	%ecx, %gs
	movl	%ecx, %ss
	cmpl	$MB_BOOT_MAGIC, %eax
	jne	1f
	testl	$MB_INFO_MODS, (%ebx)	/* flags: mods_count, mods_addr valid */
	jz	1f
	cmpl	$0, 20(%ebx)		/* mods_count */
	je	1f
	movl	24(%ebx), %edx		/* mods_addr: {mod_start, mod_end, ...} */
	movl	(%edx), %esi
	movl	4(%edx), %ecx
	subl	%esi, %ecx
	cmpl	$4096, %ecx
	jbe	2f
	movl	$4096, %ecx
2:	movl	$BOOT_PARAMS_ADDR, %edi
	rep movsb
1:
	movl	$ap_tramp, %esi		/* the trampoline must run below 1 MiB */
	movl	$TRAMP_ADDR, %edi
	movl	$(ap_tramp_end - ap_tramp), %ecx
	rep movsb
	movl	$0x1ff, LAPIC_BASE + 0xf0	/* SVR: enabled (kmain writes the same) */
	send_ipi ICR_INIT_OTHERS
	send_ipi ICR_SIPI_OTHERS
	send_ipi ICR_SIPI_OTHERS		/* the MP protocol's second SIPI; a started AP ignores it */
	movl	$BOOT_PARAMS_ADDR, %ebx
	xorl	%esi, %esi
	xorl	%esp, %esp
	jmp	start32

/* An AP after the trampoline: 32-bit protected mode on the trampoline's GDT. */
ap_start32:
	movl	$SEL_KDATA, %eax	/* the same selector in both GDTs */
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
	movl	$1, %eax		/* initial APIC ID = vCPU index (QEMU numbers them 0..n-1) */
	cpuid
	shrl	$24, %ebx
	movl	%ebx, %esi
	movl	$BOOT_PARAMS_ADDR, %ebx
	xorl	%esp, %esp
	jmp	start32

/*
 * Real-mode AP start-up code, copied to TRAMP_ADDR (SIPI vector
 * TRAMP_ADDR >> 12, so CS = TRAMP_ADDR >> 4, IP = 0). Position-independent
 * within its copy: it addresses its own GDT through DS = CS. That GDT has a
 * 32-bit code segment (ours has only 64-bit code); start32 then loads ours,
 * as the Thaw boot ABI has it: CS 0x08 flat 32-bit, data 0x10 flat.
 */
	.code16
ap_tramp:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	tramp_gdtr - ap_tramp
	movl	%cr0, %eax
	orl	$1, %eax		/* PE */
	movl	%eax, %cr0
	ljmpl	$SEL_KCODE, $ap_start32
tramp_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08 flat 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x10 flat data */
tramp_gdtr:
	.word	3 * 8 - 1
	.long	TRAMP_ADDR + (tramp_gdt - ap_tramp)
ap_tramp_end:
	.code64

	.section .note.GNU-stack, "", @progbits

/**
 * The emulated vCPU: an x86-64 interpreter, one {@link dev.thaw.emulated.cpu.Interpreter} per vCPU thread,
 * over guest RAM shared by all vCPUs ({@link dev.thaw.emulated.cpu.PhysicalMemory}). What the runtime
 * provides: a {@link dev.thaw.emulated.cpu.CpuBus} (ports, MMIO), an
 * {@link dev.thaw.emulated.cpu.InterruptSource} (the local APIC) and a
 * {@link dev.thaw.emulated.cpu.PageToucher} (native first touch of guest pages).
 *
 * <p>Layout, after the SDM's chapters: {@code Decoder}/{@code OpcodeTable}/{@code Insn} decode,
 * {@code BlockCache} keeps straight-line runs of them ({@code Block}), {@code RegisterForms} executes the
 * commonest register forms directly and {@code Executor} dispatches the rest to one class per instruction
 * group ({@code Arith}, {@code Shifts}, {@code MulDiv}, {@code BitOps}, {@code DataMove}, {@code Exchange},
 * {@code StackOps}, {@code StringOps}, {@code Branch}, {@code FarControl}, {@code SegmentOps},
 * {@code SystemOps}, {@code FastSystemCall}, {@code IoOps}, {@code Legacy}); {@code Flags} computes
 * RFLAGS lazily; {@code Operands} does addressing and segmentation; {@code Mmu} and {@code PageWalker} the
 * TLB and paging; {@code Segments} descriptors; {@code PendingEvents} what is delivered at an instruction
 * boundary (and the double-fault rules), {@code Interrupts} how (the IDT); {@code Reset} the power-up and
 * INIT states; {@code PauseLoop} spin loops; {@code ControlRegs}, {@code Msrs} and {@code Cpuid} the system
 * registers; {@code StateIo} state export and import.
 */
package dev.thaw.emulated.cpu;

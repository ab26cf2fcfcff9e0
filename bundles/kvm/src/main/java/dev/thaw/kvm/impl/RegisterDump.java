package dev.thaw.kvm.impl;

import dev.thaw.api.state.Regs;
import dev.thaw.api.state.Sregs;
import dev.thaw.linux.kvm.VcpuFd;

/** Formats a vCPU's registers for exit reports. */
final class RegisterDump {

    private RegisterDump() {}

    /** The registers of {@code vcpu}, read now; a note instead when KVM cannot give them. */
    static String of(VcpuFd vcpu) {
        try {
            return format(vcpu.getRegs(), vcpu.getSregs());
        } catch (RuntimeException e) {
            return "registers unavailable: " + e.getMessage();
        }
    }

    static String format(Regs r, Sregs s) {
        return String.format(
                "rip=0x%x rsp=0x%x rflags=0x%x%n"
                        + "cr0=0x%x cr2=0x%x cr3=0x%x cr4=0x%x efer=0x%x%n"
                        + "cs=0x%x (base 0x%x, l=%d, db=%d, dpl=%d) ss=0x%x ds=0x%x tr=0x%x gdt=0x%x/0x%x idt=0x%x/0x%x%n"
                        + "rax=0x%x rbx=0x%x rcx=0x%x rdx=0x%x%n"
                        + "rsi=0x%x rdi=0x%x rbp=0x%x r8=0x%x%n"
                        + "r9=0x%x r10=0x%x r11=0x%x r12=0x%x%n"
                        + "r13=0x%x r14=0x%x r15=0x%x",
                r.rip(), r.rsp(), r.rflags(),
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer(),
                s.cs().selector(), s.cs().base(), s.cs().l(), s.cs().db(), s.cs().dpl(), s.ss().selector(),
                s.ds().selector(), s.tr().selector(), s.gdt().base(), s.gdt().limit(), s.idt().base(), s.idt().limit(),
                r.rax(), r.rbx(), r.rcx(), r.rdx(),
                r.rsi(), r.rdi(), r.rbp(), r.r8(),
                r.r9(), r.r10(), r.r11(), r.r12(),
                r.r13(), r.r14(), r.r15());
    }
}

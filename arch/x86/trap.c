/* The host's exception report: what faulted, where, with which registers and stack. */
#include "arch/x86/trap.h"
#include "arch/x86/gdt.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"
#include "supervisor/log.h"
#include "supervisor/config.h"

static const char *const exc_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS",
    "segment not present", "stack fault", "general protection", "page fault", "reserved",
    "x87 error", "alignment check", "machine check", "SIMD error", "virtualization",
    "control protection", "reserved", "reserved", "reserved", "reserved", "reserved",
    "reserved", "hypervisor injection", "VMM communication", "security", "reserved",
};

extern uint8_t __kernel_start[], __kernel_end[];

/* Walk saved frame pointers while they stay inside the kernel image's stacks. */
static void stack_trace(uint32_t ebp, uint32_t eip)
{
    kprintf("  stack trace: %08x", eip);
    for (int depth = 0; depth < 16 && ebp; depth++) {
        if (ebp & 3 || ebp < (uint32_t)__kernel_start || ebp + 8 > (uint32_t)__kernel_end) {
            kprintf(" (frame pointer %08x leaves the kernel)", ebp);
            break;
        }
        uint32_t *fp = (uint32_t *)ebp;
        if (!fp[1]) break;
        kprintf(" %08x", fp[1]);
        ebp = fp[0];
    }
    kprintf("\n");
}

/* The report itself, shared by ordinary exceptions and the double-fault task. */
static void report(unsigned vector, uint32_t error, uint32_t eip, uint32_t cs, uint32_t eflags,
                   const uint32_t gpr[8], uint32_t esp, uint32_t ebp_chain)
{
    kprintf("\numbra: exception %u (%s), error code %08x\n", vector,
            vector < 32 ? exc_names[vector] : "interrupt", error);
    kprintf("  eip %08x cs %04x eflags %08x cr2 %08x cr3 %08x\n", eip, cs, eflags, read_cr2(), read_cr3());
    kprintf("  eax %08x ebx %08x ecx %08x edx %08x\n", gpr[0], gpr[1], gpr[2], gpr[3]);
    kprintf("  esi %08x edi %08x ebp %08x esp %08x\n", gpr[4], gpr[5], gpr[6], esp);
    kprintf("  cr0 %08x cr4 %08x\n", read_cr0(), read_cr4());
    if (vector == EXC_PF)
        kprintf("  page fault at %08x: %s, %s, %s mode%s\n", read_cr2(),
                error & PFEC_P ? "protection" : "not present", error & PFEC_W ? "write" : "read",
                error & PFEC_U ? "user" : "supervisor", error & PFEC_I ? ", instruction fetch" : "");
    stack_trace(ebp_chain, eip);
}

void trap_report(const struct trap_frame *f)
{
    uint32_t gpr[8] = { f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp, 0 };
    /* Same-ring traps push no ESP: the interrupted stack pointer is just past EFLAGS. */
    uint32_t esp = (f->cs & 3) ? f->esp : (uint32_t)&f->esp;
    report(f->vector, f->error, f->eip, f->cs, f->eflags, gpr, esp, f->ebp);
    panic("unhandled exception %u at %08x", f->vector, f->eip);
}

/* Entered as the double-fault task: the faulting state is in the host TSS. */
void double_fault_report(void);
void double_fault_report(void)
{
    const struct tss32 *t = &host_tss;
    uint32_t gpr[8] = { t->eax, t->ebx, t->ecx, t->edx, t->esi, t->edi, t->ebp, 0 };
    report(EXC_DF, 0, t->eip, t->cs, t->eflags, gpr, t->esp, t->ebp);
    panic("double fault at %08x (stack pointer %08x)", t->eip, t->esp);
}

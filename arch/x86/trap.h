/* Host traps: the frame the entry stubs build, handler registration, the fault report. */
#ifndef ARCH_X86_TRAP_H
#define ARCH_X86_TRAP_H
#include <stdint.h>
#include "arch/x86/desc.h"

/* What isr_common pushed, lowest address first. esp/ss exist only on a ring change. */
struct trap_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;
};

#define IRQ_BASE 0x20          /* the 8259s are remapped here */
typedef void (*trap_handler)(struct trap_frame *f);
extern struct desc_ptr host_idtr;

/* Fill the IDT with the stubs and load it. */
void idt_init(void);
/* Call h for vector v (interrupts and, for tests, exceptions). */
void trap_set_handler(unsigned v, trap_handler h);
/* Called by every stub: dispatch to a handler or report a fatal exception. */
void trap_dispatch(struct trap_frame *f);
/* Print the exception report: vector, error code, registers, CR2, a stack trace. */
void trap_report(const struct trap_frame *f);

#endif

/* The host IDT: every vector enters a stub; the double fault goes to its own task. */
#include "arch/x86/trap.h"
#include "arch/x86/gdt.h"
#include "arch/x86/desc.h"

static struct gate_desc idt[256] __attribute__((aligned(8)));
struct desc_ptr host_idtr;
static trap_handler handlers[256];
extern const uint32_t isr_table[256];

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        idt[v] = gate_make(HOST_CS, isr_table[v], DESC_TYPE_INTGATE32, 0);
    idt[8] = gate_make(HOST_DFTSS, 0, DESC_TYPE_TASKGATE, 0);
    host_idtr = (struct desc_ptr){ sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(host_idtr));
}

void trap_set_handler(unsigned v, trap_handler h)
{
    if (v < 256) handlers[v] = h;
}

void trap_dispatch(struct trap_frame *f)
{
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    trap_report(f);
}

/* The monitor's trap dispatch: every exception and interrupt from the guest comes here. */
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/reflect.h"
#include "monitor/emulate.h"
#include "paging/vtlb.h"
#include "arch/x86/regs.h"

/* A trap taken inside the monitor itself is a monitor bug: report it and stop the guest. */
static void monitor_fault(struct guest_frame *f)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    guest_stop(STOP_MONITOR_FAULT, "monitor fault: vector %u error %x at monitor eip %08x (cr2 %08x)",
               f->vector, f->error, f->eip, cr2);
}

void monitor_trap(struct guest_frame *f)
{
    if (f != GUEST_FRAME || (f->cs & 3) != 3) monitor_fault(f);
    unsigned v = f->vector;
    if (v < 48) shared->count.traps[v]++;
    if (v >= 32 && v < 48) {
        /* A host interrupt: the supervisor handles it in its own world. */
        struct msg req = { .type = MSG_HOST_IRQ, .a = { v } };
        suspend(&req, 0, 0);
    }
    switch (v) {
    case EXC_PF: page_fault(f); break;
    case EXC_GP: gp_fault(f); break;
    case EXC_BP:
    case EXC_OF:
        /* INT3 and INTO reach the monitor directly (DPL 3 gates); the guest's gate decides. */
        deliver_soft(f, v, f->eip);
        break;
    default:
        if (v < 32) deliver_exception(f, v, f->error);
        else guest_stop(STOP_MONITOR_FAULT, "unexpected vector %u", v);
        break;
    }
    before_guest(f);
}

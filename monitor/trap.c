/* The monitor's trap dispatch: every exception and interrupt from the guest comes here. */
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/reflect.h"
#include "monitor/emulate.h"
#include "monitor/watchdog.h"
#include "monitor/code.h"
#include "monitor/task.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "monitor/nmi.h"
#include "paging/paging.h"
#include "arch/x86/regs.h"

extern char return_iret[];

/* The one monitor instruction allowed to fault (mon_probe): where it is and where to go on. */
static uint32_t probe_at, probe_resume;
static int probe_vector;

/* RDMSR or RDPMC (op) of ECX on the real CPU; the vector it raised, or -1 and its value. */
static int mon_probe(uint32_t op, uint32_t ecx, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    probe_vector = -1;
    if (op == PROBE_RDMSR)
        __asm__ volatile("movl $1f, %2\n\tmovl $2f, %3\n\t1: rdmsr\n2:"
                         : "+a"(lo), "+d"(hi), "=m"(probe_at), "=m"(probe_resume) : "c"(ecx) : "memory");
    else
        __asm__ volatile("movl $1f, %2\n\tmovl $2f, %3\n\t1: rdpmc\n2:"
                         : "+a"(lo), "+d"(hi), "=m"(probe_at), "=m"(probe_resume) : "c"(ecx) : "memory");
    probe_at = 0;
    *v = (uint64_t)hi << 32 | lo;
    return probe_vector;
}

int mon_rdmsr(uint32_t msr, uint64_t *v) { return mon_probe(PROBE_RDMSR, msr, v); }
int mon_rdpmc(uint32_t counter, uint64_t *v) { return mon_probe(PROBE_RDPMC, counter, v); }

int mon_xsetbv(uint64_t v)
{
    probe_vector = -1;
    __asm__ volatile("movl $1f, %0\n\tmovl $2f, %1\n\t1: xsetbv\n2:"
                     : "=m"(probe_at), "=m"(probe_resume) : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
    probe_at = 0;
    return probe_vector;
}

/* A trap taken inside the monitor itself is a monitor bug, unless it is the IRET back to the
 * guest refusing the guest's own segments: then the guest's state is what cannot go on. */
static void monitor_fault(struct guest_frame *f)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    if (f->eip == (uint32_t)return_iret)
        guest_stop(STOP_BAD_STATE, "the guest's segments cannot be loaded to resume it (exception %u, "
                   "error %x): its descriptor tables changed under a segment it is using", f->vector, f->error);
    guest_stop(STOP_MONITOR_FAULT, "monitor fault: vector %u error %x at monitor eip %08x (cr2 %08x)",
               f->vector, f->error, f->eip, cr2);
}

/* The length of the instruction that raised #BP or #OF (v) and left EIP past it: one byte for
 * INT3 (CC) and INTO (CE), two for INT 3 and INT 4 (CD ib). */
static uint32_t soft_trap_len(const struct guest_frame *f, unsigned v)
{
    uint8_t last = 0;
    uint32_t fva;
    glin_read(seg_base((uint16_t)f->cs) + f->eip - 1, &last, 1, glin_fetch_acc(), &fva);
    return last == (v == EXC_BP ? 0xcc : 0xce) ? 1 : 2;
}

void monitor_trap(struct guest_frame *f)
{
    if (f->vector == EXC_NMI) {
        /* From the host's watchdog, wherever it struck: nothing of the guest's changes. */
        watchdog_nmi(f);
        return;
    }
    if ((f->cs & 3) == 0 && probe_at && f->eip == probe_at && f->vector < 32) {
        /* mon_probe's instruction faulted: it says so and goes on after it. */
        probe_vector = (int)f->vector;
        f->eip = probe_resume;
        return;
    }
    if (f != GUEST_FRAME || (f->cs & 3) != 3) monitor_fault(f);
    unsigned v = f->vector;
    shared->count.traps[v < 48 ? v : 48]++;
    vcpu.trap_seq++;
    /* The instruction in STI's shadow has run once the guest is elsewhere. A host interrupt
     * or a shadow fill before it leaves it still to run, and still shadowed. */
    if (vcpu.irq_shadow && f->eip != vcpu.shadow_eip) vcpu.irq_shadow = false;
    /* A table write being single-stepped ends with the trap that follows it. */
    if (pt_step_trap(f)) { before_guest(f); return; }
    if (vcpu.shadow_step) {
        /* Our TF stepped over it (or it trapped first): hide our TF again. */
        vcpu.shadow_step = false;
        f->eflags = (f->eflags & ~EFL_TF) | (vcpu.guest_tf ? EFL_TF : 0);
        if (v == EXC_DB) vcpu.irq_shadow = false;      /* it ran, even if it jumped to itself */
        if (v == EXC_DB && !vcpu.guest_tf) {
            uint32_t zero = 0;
            __asm__ volatile("mov %0, %%dr6" :: "r"(zero));
            before_guest(f);
            return;
        }
    }
    if (v < 32) nmi_trap(f);          /* a user IRET's own fault ends NMI blocking */
    if (v >= 32 && v < 48) {
        /* A host interrupt: the supervisor handles it in its own world. */
        struct msg req = { .type = MSG_HOST_IRQ, .a = { v } };
        suspend(&req, 0, 0);
    }
    switch (v) {
    case EXC_PF: pt_page_fault(f); break;
    case EXC_GP: gp_fault(f); break;
    case EXC_UD: ud_fault(f); break;
    case EXC_NP: np_fault(f); break;
    case EXC_TS:
        /* The guest's IRET with NT set, run at the real CPL3, met the monitor's TSS. */
        if (!task_ts_trap(f)) deliver_exception(f, v, f->error);
        break;
    case EXC_DB: {
        /* The guest's own single step or breakpoint: its DR6 tells it why. */
        uint32_t dr6, zero = 0;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        __asm__ volatile("mov %0, %%dr6" :: "r"(zero));
        vcpu.dr[6] = (vcpu.dr[6] & ~0xe00fu) | (dr6 & 0xe00fu);
        deliver_exception(f, v, 0);
        break;
    }
    case EXC_BP:
        if (code_breakpoint(f)) break;          /* one of the copy's INT3s, not the guest's */
        /* fall through */
    case EXC_OF: {
        /* INT3, INT 3, INTO and INT 4 reach the monitor directly (DPL 3 gates) with EIP past
         * them; the guest's gate decides, and a gate it may not use faults on the instruction. */
        uint32_t len = soft_trap_len(f, v);
        f->eip -= len;
        deliver_soft(f, v, f->eip + len);
        break;
    }
    default:
        if (v < 32) deliver_exception(f, v, f->error);
        else if (v >= MON_SOFT_FIRST) {
            /* INT n (CD ib) came straight here with EIP past it; a refused INT faults on itself. */
            f->eip -= 2;
            deliver_soft(f, v, f->eip + 2);
        }
        else guest_stop(STOP_MONITOR_FAULT, "unexpected vector %u", v);
        break;
    }
    before_guest(f);
}

/* The guest's virtual NMI: delivery through vector 2, and its blocking until the next IRET.
 *
 * The guest's NMIs have nothing to do with the real ones: those are the host's watchdog
 * (monitor/watchdog.c) and never reach the guest. A virtual NMI comes from the guest's own
 * devices (an NMI IPI, an I/O APIC entry or LINT0 in NMI mode, supervisor/dev/); the
 * supervisor puts it in the guest CPU's one NMI latch, shared->nmi_pending, where a second
 * one that finds the latch full is lost, as on the CPU. The monitor delivers it at the next
 * instruction boundary where the guest can take it (nmi_due), before any maskable interrupt
 * and whatever IF says (SDM Vol. 3A 6.7, 6.9): through the guest's IDT gate 2 as an external
 * interrupt (its gate type decides IF, a task gate switches tasks; a fault while delivering
 * it is delivered as itself, never as a double fault; the EXT bit is set in its error code).
 *
 * From the delivery on, further NMIs are blocked until the guest executes an IRET (6.7.1);
 * one waits in the latch meanwhile. Every IRET the guest runs ends the blocking, and each
 * reaches the monitor:
 *  - in the guest kernel, IRET is patched by scanning or faults by itself (RPL 0 < CPL 3, or
 *    hidden user code), and is performed by emulate_iret, as is a user IRET with NT set
 *    (the #TS of the monitor's TSS, task_ts_trap) and any IRET that faults with #GP;
 *  - in guest user mode an IRET to user code would run natively at CPL3 and succeed unseen. So
 *    while NMIs are blocked in user mode, the guest's user code descriptors are hidden there
 *    too (desc_hide_user_code): the IRET's load of CS faults (#NP) and np_fault performs it;
 *    the user code running meanwhile does so on a present copy of its CS (desc_keep_loadable);
 *  - a user IRET that faults natively before it loads CS (#PF or #SS on its stack) ends the
 *    blocking as well when that fault reaches the guest: the CPU unblocks NMIs before IRET's
 *    faults (SDM Vol. 3C 27.2.3, "NMI unblocking due to IRET").
 * An IRET that is performed ends the blocking after it completes or delivers its fault, never
 * before: one that suspends (a task return waiting for pages) runs again later, and an NMI
 * delivered in between would find the handler's own frame.
 *
 * Interrupt shadows: the instruction after MOV SS or POP SS runs before an NMI too (SDM Vol.
 * 3A 6.8.3); the one after STI does not hold an NMI back ("may be blocked" says STI's page;
 * QEMU's TCG does not, nor does umbra). INT 2 is a software interrupt: it runs the handler
 * without blocking anything.
 */
#include "monitor/nmi.h"
#include "monitor/mon.h"
#include "monitor/reflect.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "arch/x86/regs.h"

/* Is there an NMI the guest may take at this boundary? Not while one is being handled, nor
 * in the shadow of an SS load. */
static bool nmi_due(const struct guest_frame *f)
{
    bool ss_shadow = vcpu.irq_shadow && vcpu.shadow_nmi && f->eip == vcpu.shadow_eip;
    return shared->nmi_pending && !vcpu.nmi_blocked && !ss_shadow;
}

bool nmi_waits_for_shadow(const struct guest_frame *f)
{
    return shared->nmi_pending && !vcpu.nmi_blocked && !nmi_due(f);
}

void nmi_deliver_due(struct guest_frame *f)
{
    if (!nmi_due(f)) return;
    shared->nmi_pending = 0;
    vcpu.nmi_blocked = true;
    vcpu.irq_shadow = false;          /* the event ends any interrupt shadow */
    shared->count.nmis_delivered++;
    deliver_nmi(f);
}

void nmi_iret_done(void)
{
    vcpu.nmi_blocked = false;
}

/* Does the instruction at the guest's CS:EIP read as IRET (prefixes allowed)? */
static bool iret_at(const struct guest_frame *f)
{
    uint8_t b[15];
    uint32_t fva, lin = seg_base((uint16_t)f->cs) + f->eip;
    for (unsigned i = 0; i < sizeof b; i++) {
        if (glin_read(lin + i, &b[i], 1, glin_fetch_acc(), &fva)) return false;
        uint8_t c = b[i];
        if (c == 0xcf) return true;
        if (c != 0x66 && c != 0x67 && c != 0xf0 && c != 0xf2 && c != 0xf3 && c != 0x2e && c != 0x36 &&
            c != 0x3e && c != 0x26 && c != 0x64 && c != 0x65) return false;
    }
    return false;
}

void nmi_trap(const struct guest_frame *f)
{
    unsigned v = f->vector;
    vcpu.iret_faulted = vcpu.nmi_blocked && vcpu.cpl == 3 && (v == EXC_PF || v == EXC_SS) && iret_at(f);
}

void nmi_fault_delivered(void)
{
    if (!vcpu.iret_faulted) return;
    vcpu.iret_faulted = false;
    vcpu.nmi_blocked = false;
}

void nmi_hide_sync(struct guest_frame *f)
{
    bool hide = vcpu.nmi_blocked && vcpu.cpl == 3;
    desc_hide_user_code(hide);
    if (hide) desc_keep_loadable(f);     /* only then can a register hold a hidden descriptor */
}

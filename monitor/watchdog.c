/* The monitor's NMI handler: the watchdog that takes the CPU back from a guest keeping IF clear.
 *
 * While a guest runs, the real IF is its IF, so a guest that spins with IF clear keeps the
 * host's timer interrupt waiting for ever. The host sends every PIT tick as an NMI as well
 * (supervisor/watchdog.c); IF does not hold an NMI off. Each NMI comes here, wherever it
 * struck: the guest (the frame is GUEST_FRAME and its CS has RPL 3) or the monitor's own
 * code (a frame lower on the monitor stack, CS the monitor's). It counts the ticks the guest
 * has spent with IF clear since the host last had the CPU (any suspension hands it over, so a
 * change of the suspension count starts the count again). Once the count reaches the limit
 * and the NMI struck guest code, the monitor suspends exactly as for a host interrupt, with
 * no request: the supervisor takes its own interrupts, runs the other VMs, and resumes this
 * one where it was. The guest sees nothing: no vector, no frame, its registers as they were.
 * While one of the guest's own devices could send it a virtual NMI (monitor/nmi.c), it takes
 * the CPU back at every tick instead, without making the guest wait its turn.
 *
 * An NMI that struck the monitor only counts: the monitor may be in the middle of anything,
 * and it returns to the guest (or suspends) soon anyway; the next NMI that finds the guest
 * acts. So does one that strikes while the monitor steps a guest instruction with its own TF
 * (a table write, an interrupt shadow): that step is one instruction. The CPU holds further
 * NMIs until the next IRET, which is the return to the guest after the resume, or any IRET
 * of the host's own interrupt handlers meanwhile.
 */
#include "monitor/mon.h"
#include "monitor/watchdog.h"
#include "monitor/tables.h"
#include "paging/paging.h"
#include "arch/x86/regs.h"

static uint32_t if_clear_ticks, suspensions_seen;

void watchdog_nmi(struct guest_frame *f)
{
    bool in_guest = f == GUEST_FRAME && (f->cs & 3) == 3;
    if (in_guest) shared->count.nmi_guest++;
    else shared->count.nmi_monitor++;
    if (!shared->watchdog_nmis) return;
    if (shared->count.suspensions != suspensions_seen) {
        suspensions_seen = shared->count.suspensions;
        if_clear_ticks = 0;
    }
    if (GUEST_FRAME->eflags & EFL_IF) {
        if_clear_ticks = 0;
        return;
    }
    /* One of the guest's devices may send it an NMI by itself (an I/O APIC entry or LINT0 in
     * NMI mode) and it can take one: the CPU goes back at every tick, as it does for a host
     * interrupt while the guest's IF is set, so the NMI comes in time. */
    bool nmi_source = shared->nmi_armed && !vcpu.nmi_blocked;
    bool limit = ++if_clear_ticks >= shared->watchdog_nmis;
    if (!limit && !nmi_source) return;
    if (!in_guest || pt_stepping() || vcpu.shadow_step) return;
    if (limit) shared->count.watchdog_takes++;
    else shared->count.nmi_takes++;
    suspend(0, 0, 0);
}

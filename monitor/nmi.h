/* The guest's virtual NMI: delivery through vector 2, blocking until the next IRET. */
#ifndef MONITOR_NMI_H
#define MONITOR_NMI_H
#include <stdbool.h>
#include "monitor/layout.h"

/* Deliver the NMI waiting for the guest (shared->nmi_pending) if it may take one at this
 * boundary: not while NMIs are blocked, nor in an SS load's shadow. Blocks further NMIs. */
void nmi_deliver_due(struct guest_frame *f);
/* Does an NMI wait only for the SS-load shadow over the instruction at EIP to pass? */
bool nmi_waits_for_shadow(const struct guest_frame *f);
/* The guest's IRET has been performed, or delivered its fault: NMIs are no longer blocked. */
void nmi_iret_done(void);
/* A trap from the guest: note whether it is the fault of a user-mode IRET run natively
 * (#PF, #SS) while NMIs are blocked; nmi_fault_delivered then ends the blocking. */
void nmi_trap(const struct guest_frame *f);
/* An exception is being delivered to the guest as the first event of a trap: if it is that
 * IRET's fault, NMIs are unblocked first (the CPU does so before IRET can fault). */
void nmi_fault_delivered(void);
/* Just before the guest runs: its user code is hidden in user mode while NMIs are blocked
 * there (so that its IRET traps), and its segment registers stay loadable. */
void nmi_hide_sync(struct guest_frame *f);

#endif

/* Emulating the privileged instructions a deprivileged guest kernel traps on (#GP at CPL3). */
#ifndef MONITOR_EMULATE_H
#define MONITOR_EMULATE_H
#include <stdbool.h>
#include "monitor/layout.h"

/* #GP from the guest: emulate the instruction if the guest's CPU would have run it, else
 * deliver the #GP (or the fault the guest's CPU would have raised instead). */
void gp_fault(struct guest_frame *f);
/* #UD from the guest: MONITOR and MWAIT, STAC and CLAC, and LOCK MOV CR0 (CR8 on AMD), in
 * the guest kernel are emulated (its CPL0 allows them); anything else is the guest's #UD. */
void ud_fault(struct guest_frame *f);
/* #NP from the guest: an IRET or far RET from the guest kernel to user mode meets the user
 * code descriptor the monitor hides in kernel mode; emulate it. Any other #NP is the guest's. */
void np_fault(struct guest_frame *f);
/* Perform the data instruction at the guest's EIP through the guest's own page tables, where
 * holes (no RAM, no device) read as all ones and ignore writes, and device pages (LAPIC,
 * IOAPIC) are forwarded to the supervisor's models (monitor/mmio.c); may suspend. Used for
 * accesses the monitor cannot map: writes to holes, device pages, anything in the monitor's
 * range while the guest sees a hole. */
void emulate_data_access(struct guest_frame *f);
/* Perform the data instruction at the guest's EIP through the guest's page tables (or deliver
 * the fault it takes); false when the emulator cannot, and then nothing changed. */
bool emulate_memory_insn(struct guest_frame *f);
/* Perform the sensitive instruction at the guest kernel's EIP that scan-before-execute
 * patched to trap (POPF, far CALL/JMP, IRET, far RET, SS loads, MOV/PUSH from CS/SS, SLDT STR
 * VERR VERW SGDT SIDT SMSW, LAR LSL, FNSTENV FNSAVE), with the #DB that follows it under the
 * guest's TF. */
void emulate_sensitive(struct guest_frame *f);

#endif

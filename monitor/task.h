/* Hardware task switching for the guest: JMP and CALL to a TSS or task gate, events through
 * task gates, IRET with NT back through the back link (32-bit TSSs; SDM Vol. 3 7.3, 7.4). */
#ifndef MONITOR_TASK_H
#define MONITOR_TASK_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/desc.h"
#include "monitor/layout.h"

/* JMP or CALL far to sel, whose descriptor d in the guest's tables is a TSS (available or
 * busy) or a task gate: the checks, then the switch; next_eip is the instruction after it.
 * Faults are delivered to the guest as its CPU raises them. */
void task_far(struct guest_frame *f, uint16_t sel, struct seg_desc d, bool call, uint32_t next_eip);
/* IRET with NT set at the guest's EIP: the switch back to the task its TSS's back link names. */
void task_return(struct guest_frame *f);
/* Event (exception, interrupt, INT n) through task gate g: the switch to the gate's TSS (the
 * checks from the gate's TSS selector on: the caller checked the gate's DPL and present bit),
 * then the error code, if push_err, on the new task's stack. ext is the EXT bit of the error
 * codes of faults on the way. Faults go through the caller's delivery (deliver_exception while
 * it is delivering, so that they nest as the SDM says). true when the new task is ready to run;
 * the caller then ends its delivery and calls task_after_switch. */
bool task_event(struct guest_frame *f, struct gate_desc g, uint32_t ret_eip, bool push_err, uint32_t err, uint32_t ext);
/* After a completed switch: the #DB of a new task whose TSS has the T flag set. */
void task_after_switch(struct guest_frame *f);
/* #TS from the guest: an IRET it ran at the real CPL3 with NT set tried a task return through
 * the monitor's own TSS. true when that was it (the guest's task return is then done). */
bool task_ts_trap(struct guest_frame *f);

#endif

/* Far CALL and JMP through the guest's 32-bit call gates (SDM Vol. 2 CALL and JMP, Vol. 3
 * 5.8.3-5.8.6): to code of the same privilege, or, for CALL, inward to the guest kernel with
 * a stack switch from its TSS and the gate's parameters copied. */
#ifndef MONITOR_CALLGATE_H
#define MONITOR_CALLGATE_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/desc.h"
#include "monitor/layout.h"

/* Is d (a system descriptor of the guest's) a 32-bit call gate? */
static inline bool desc_is_call_gate(struct seg_desc d) { return (desc_access(d) & (DESC_S | DESC_TYPE_MASK)) == DESC_TYPE_CALLGATE32; }

/* CALL (call) or JMP far through the call gate at selector gsel, whose descriptor is gd;
 * next_eip is the instruction after it. The checks in the SDM's order, then the transfer;
 * a fault is delivered to the guest as its CPU raises it, with nothing changed. */
void call_gate(struct guest_frame *f, uint16_t gsel, struct seg_desc gd, bool call, uint32_t next_eip);

#endif

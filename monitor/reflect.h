/* Delivering exceptions and interrupts to the guest as its CPU would, and returning from them. */
#ifndef MONITOR_REFLECT_H
#define MONITOR_REFLECT_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

/* An exception: error is pushed for the vectors that have one. */
void deliver_exception(struct guest_frame *f, unsigned vector, uint32_t error);
/* #PF at va with the guest's error code; sets the guest's CR2. */
void deliver_pf(struct guest_frame *f, uint32_t va, uint32_t error);
/* INT n, INT3, INTO: the guest's gate DPL is checked against its CPL; returns to next_eip. */
void deliver_soft(struct guest_frame *f, unsigned vector, uint32_t next_eip);
/* An external (virtual) interrupt. */
void deliver_interrupt(struct guest_frame *f, unsigned vector);
/* A virtual NMI: vector 2 as an external interrupt (no gate DPL check, EXT in error codes, a
 * fault while delivering it is delivered as itself). Blocking is the caller's (monitor/nmi.c). */
void deliver_nmi(struct guest_frame *f);
/* IRET (32-bit operand size) and far RET (with imm16 bytes popped) in every direction. An
 * IRET ends the blocking of virtual NMIs. */
void emulate_iret(struct guest_frame *f, bool op16);
void emulate_retf(struct guest_frame *f, uint32_t imm, bool op16);
/* Make the guest's CPL `cpl`: shadow view, user code descriptors. */
void set_cpl(unsigned cpl);

#endif

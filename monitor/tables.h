/* The monitor's real GDT, IDT and TSS. */
#ifndef MONITOR_TABLES_H
#define MONITOR_TABLES_H
#include "arch/x86/desc.h"
#include "monitor/layout.h"

extern struct seg_desc mon_gdt[GDT_ENTRIES];
extern struct gate_desc mon_idt[256];
extern struct tss32 mon_tss;
#define MON_STACK_SIZE 16384u
/* Vectors past the exceptions (0-31) and the host's interrupts (0x20-0x2f): only INT n uses them. */
#define MON_SOFT_FIRST 0x30u
extern uint8_t mon_stack[MON_STACK_SIZE];
/* The guest frame: ESP0 minus what the CPU and the entry stubs push. */
#define GUEST_FRAME ((struct guest_frame *)(mon_stack + MON_STACK_SIZE - sizeof(struct guest_frame)))

/* Build the IDT (every vector to the monitor) and the TSS (ESP0 at the guest frame). */
void tables_init(void);

#endif

/* The host's GDT and TSS: flat ring-0 code and data, one TSS for interrupts and faults. */
#ifndef ARCH_X86_GDT_H
#define ARCH_X86_GDT_H
#include <stdint.h>
#include "arch/x86/desc.h"

#define HOST_CS   SEL(1, 0)
#define HOST_DS   SEL(2, 0)
#define HOST_TSS  SEL(3, 0)
#define HOST_DFTSS SEL(4, 0)
/* 8192 entries: the world switch's selector (SWITCH_SEL_CS, monitor/layout.h) sits at the
 * index it has in every monitor's GDT, near the top; the supervisor writes it. */
#define HOST_GDT_ENTRIES 8192

extern struct seg_desc host_gdt[HOST_GDT_ENTRIES];
extern struct tss32 host_tss, host_df_tss;

/* Load the host GDT, reload every segment register, and load the task register. */
void gdt_init(void);
/* Reload TR after a world switch: clear the busy bit, then LTR. */
void gdt_reload_tr(void);

#endif

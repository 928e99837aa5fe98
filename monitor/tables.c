/* The monitor's real GDT, IDT, TSS and stack: the tables the CPU uses while a guest runs. */
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "arch/x86/desc.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

struct seg_desc mon_gdt[GDT_ENTRIES] __attribute__((aligned(4096)));
struct gate_desc mon_idt[256] __attribute__((aligned(4096)));
struct tss32 mon_tss __attribute__((aligned(128)));
/* The monitor stack; the guest frame is its top, where a trap from CPL3 puts it. */
uint8_t mon_stack[MON_STACK_SIZE] __attribute__((aligned(16)));
extern const uint32_t mstub_table[256];

void tables_init(void)
{
    /* Every vector enters the monitor at CPL0. INT3 and INTO must arrive as #BP and #OF, and
     * INT n for the vectors no exception or host interrupt uses (MON_SOFT_FIRST and up) arrives
     * directly as vector n: those gates are DPL 3, and the monitor applies the guest's own gate
     * DPL when it delivers. INT n for the other vectors raises #GP (gate DPL 0 < CPL 3) and is
     * decoded. */
    for (unsigned v = 0; v < 256; v++)
        mon_idt[v] = gate_make(MON_SEL_CS, mstub_table[v], DESC_TYPE_INTGATE32,
                               (v == EXC_BP || v == EXC_OF || v >= MON_SOFT_FIRST) ? 3 : 0);
    memset(&mon_tss, 0, sizeof mon_tss);
    mon_tss.ss0 = MON_SEL_DS;
    mon_tss.esp0 = (uint32_t)mon_stack + sizeof mon_stack;
    mon_tss.iomap_base = sizeof mon_tss;     /* no I/O bitmap: every port traps at CPL3 */
    mon_gdt[SEL_INDEX(MON_SEL_TSS)] = desc_make(shared->region + (uint32_t)&mon_tss, sizeof mon_tss - 1,
                                                DESC_P | DESC_TYPE_TSS32, 0);
}

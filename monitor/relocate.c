/* Moving the monitor region.
 *
 * The monitor is linked at 0 and reached only through segments whose base is the region's
 * linear address, so moving it is: map the region at the new address too, rewrite the four
 * descriptor bases (code, data, TSS) and reload them with GDTR and IDTR, then unmap the old
 * address. The world switch runs from the transition page at region + offset, so the host
 * first maps that page at the new address in the trampoline as well (phase 0), and after the
 * move drops the old one (phase 1). No guest state changes: the guest's faulting access simply
 * runs again once the monitor is out of its way.
 */
#include "monitor/relocate.h"
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/gmem.h"
#include "monitor/desc.h"
#include "monitor/code.h"
#include "paging/paging.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

#define LOW_LIMIT (16u << 20)   /* never below 16 MiB: the host's own image lives down there */

extern struct transition_data trans_data;
extern uint8_t trans_page[];

bool region_pde_hole(uint32_t pde)
{
    if (!(pde & PTE_P) || !(pde & PTE_PS) || !(vcpu.cr4 & CR4_PSE)) return false;
    uint32_t pa = pde & PT32_ADDR_4M;
    for (uint32_t o = 0; o < LARGE_4M; o += PAGE_SIZE)
        if (gpa_is_ram(pa + o) || gpa_is_device(pa + o)) return false;
    return true;
}

/* May the monitor (or its code window) stand at directory slot i? Unmapped by the guest; with
 * holes, also a 4 MiB page over nothing. */
static bool slot_free(uint32_t i, bool holes)
{
    uint32_t pde = gpa_read32((vcpu.cr3 & PT32_ADDR_MASK) + i * 4);
    return !(pde & PTE_P) || (holes && region_pde_hole(pde));
}

/* A 4 MiB range no guest directory entry maps, with the code window's 4 MiB below it free
 * too when scan-before-execute is on, highest first; failing that, one the guest maps only
 * over holes; 0 if there is none. */
static uint32_t pick_region(void)
{
    if (!(vcpu.cr0 & CR0_PG)) return 0;
    for (int holes = 0; holes < 2; holes++) {
        for (uint32_t i = 1023; i >= LOW_LIMIT >> 22; i--) {
            uint32_t base = i << 22;
            if (base == shared->region) continue;
            if (base < shared->guest_pages * PAGE_SIZE) break;     /* keep clear of guest RAM too */
            if (!slot_free(i, holes)) continue;
            /* The code window below it needs a free 4 MiB as well. */
            uint32_t below = base - code_reserved();
            if (code_reserved() && (below < LOW_LIMIT || below == shared->region || !slot_free(below >> 22, holes)))
                continue;
            return base;
        }
    }
    return 0;
}

/* Load the monitor's segments from a region at base.
 * An NMI may strike anywhere in here, and a continuation runs with the switch's IDT loaded
 * (transition.asm, step 9), whose stub finds its counters from trans_data.region and SS. So the
 * monitor's own IDT (at the new base, already mapped) is loaded first, and the switch's tables
 * and the region it reads are rewritten only once that IDT is in force: until then the stub
 * sees the old region with the old SS, after that it is not used. */
static void reload_segments(uint32_t base)
{
    mon_gdt[SEL_INDEX(MON_SEL_CS)] = desc_make(base, MON_REGION_SIZE - 1, DESC_P | DESC_S | DESC_TYPE_CODE_R, DESC_FLAG_DB);
    mon_gdt[SEL_INDEX(MON_SEL_DS)] = desc_make(base, MON_REGION_SIZE - 1, DESC_P | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    mon_gdt[SEL_INDEX(MON_SEL_TSS)] = desc_make(base + (uint32_t)&mon_tss, sizeof mon_tss - 1, DESC_P | DESC_TYPE_TSS32, 0);
    trans_data.mon_gdtr = (struct desc_ptr){ GDT_ENTRIES * 8 - 1, base + (uint32_t)mon_gdt };
    trans_data.mon_idtr = (struct desc_ptr){ 256 * 8 - 1, base + (uint32_t)mon_idt };
    __asm__ volatile(
        "lidt %1\n\t"
        "lgdt %0\n\t"
        "ljmp %2, $1f\n"
        "1:\n\t"
        "mov %3, %%eax\n\t"
        "mov %%eax, %%ds\n\t"
        "mov %%eax, %%es\n\t"
        "mov %%eax, %%ss\n\t"
        "mov %4, %%eax\n\t"
        "ltr %%ax"
        :: "m"(trans_data.mon_gdtr), "m"(trans_data.mon_idtr), "i"(MON_SEL_CS), "i"(MON_SEL_DS),
           "i"(MON_SEL_TSS) : "eax", "memory");
    trans_data.region = base;
    trans_tables_fill(trans_page, base + (uint32_t)trans_page);
}

/* Phase 1, after the host mapped the transition page at the new base too. */
static void move(struct guest_frame *f, const struct msg *answer, uint32_t to)
{
    (void)f; (void)answer;
    uint32_t from = shared->region;
    pt_region_link(to, true);
    reload_segments(to);
    shared->region = to;
    desc_ldt_install(to);
    pt_region_link(from, false);
    pt_relocated();
    code_region_moved();
    struct msg req = { .type = MSG_RELOCATE, .a = { to, 1 } };
    suspend(&req, 0, 0);
}

void relocate_monitor(uint32_t va)
{
    uint32_t to = pick_region();
    if (!to)
        guest_stop(STOP_UNSUPPORTED, "the guest maps %08x, inside the monitor region at %08x, and leaves "
                   "no 4 MiB range free to move the monitor to", va, shared->region);
    struct msg req = { .type = MSG_RELOCATE, .a = { to, 0 } };
    suspend(&req, move, to);
}

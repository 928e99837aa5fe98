/* The monitor's guest paging: the lazy shadow engine (pt=shadow) or the first virtual TLB
 * (pt=vtlb), as the VM's settings chose. Everything the rest of the monitor asks of paging. */
#ifndef PAGING_PAGING_H
#define PAGING_PAGING_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

/* First entry: shadows for the guest's entry state, running on them. */
void pt_init(void);
/* #PF from the guest: fill a shadow entry, apply a write to a protected table, or deliver the
 * fault the guest's own tables give. */
void pt_page_fault(struct guest_frame *f);
/* Before a CR0/CR3/CR4 write changes anything: make sure the pool holds what the switch that
 * follows may take (suspends for pages otherwise; the instruction then runs again). */
void pt_reserve(void);
/* The guest wrote CR3. */
void pt_cr3_written(void);
/* The guest's paging mode changed (CR0.PG or WP, CR4.PSE, PGE or PAE). */
void pt_mode_changed(void);
/* The guest's CR4.SMAP changed (pt_reserve first, as for CR3). */
void pt_smap_changed(void);
/* Does SMAP keep the guest kernel from user pages now (CPL 0, CR4.SMAP, paging on, EFLAGS.AC
 * clear)? */
bool pt_smap_in_force(void);
/* INVLPG. */
void pt_invlpg(uint32_t va);
/* The guest's CPL (or EFLAGS.AC under SMAP) changed: run on the view for it. */
void pt_set_view(void);
/* The monitor region moves: link (or unlink) it at base in every shadow root. */
void pt_region_link(uint32_t base, bool link);
/* The move is done. */
void pt_relocated(void);
/* The monitor wrote n bytes of guest RAM at gpa (inside one page) for the guest. */
void pt_guest_written(uint32_t gpa, uint32_t n);
/* A table write is being single-stepped: no interrupt may reach the guest before it ends. */
bool pt_stepping(void);
/* A trap arrived while a table write was being stepped: end the step. true when the trap was
 * the step's own #DB and nothing else is to be done for it. */
bool pt_step_trap(struct guest_frame *f);
/* MSG_SHRINK: drop cold shadows, then hand back up to n free pages. */
void pt_shrink(uint32_t n);
/* Just before the guest runs: the view its state asks for (after an EFLAGS.AC change), and the
 * real TLB flushed if shadows were dropped. */
void pt_sync(void);

#endif

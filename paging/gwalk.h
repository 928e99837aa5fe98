/* The guest's own MMU in software: walk its 32-bit page tables as the hardware would. */
#ifndef PAGING_GWALK_H
#define PAGING_GWALK_H
#include <stdbool.h>
#include <stdint.h>

/* The guest's paging mode: its virtual CR0, CR3, CR4. */
struct gmode { uint32_t cr0, cr3, cr4; };

/* A successful translation. */
struct gtrans {
    uint32_t gpa;          /* guest-physical address of the byte */
    bool write_ok;         /* R/W set at every level */
    bool user_ok;          /* U/S set at every level */
    bool dirty;            /* D set in the leaf (after this access) */
    bool global;           /* G set in the leaf (with CR4.PGE) */
    bool large;            /* mapped by a 4 MiB page */
    uint32_t pde_gpa, pte_gpa;   /* where the entries live (pte_gpa 0 for a large page) */
};

/* The reserved bits of a directory entry that maps a 4 MiB page: 21 down to M-19, where M
 * is the physical-address width PSE-36 gives (MAXPHYADDR, at most 40; 32 without PSE-36).
 * A walk through such an entry with one of them set faults with RSVD. The monitor sets it
 * from CPUID, which the guest sees as it is; the default is M = 40 (bit 21 alone). */
extern uint32_t gwalk_rsvd_4m;
/* The mask for width m. */
uint32_t gwalk_rsvd_4m_for(unsigned m);

/* Guest-physical memory for the walker: provided by the monitor (and by the unit tests). */
uint32_t gpa_read32(uint32_t gpa);
void gpa_write32(uint32_t gpa, uint32_t v);

/* A fault is reported as GWALK_FAULT | the #PF error code (which may itself be 0: a
 * supervisor read of a not-present page). */
#define GWALK_FAULT 0x80000000u
#define GWALK_ERROR(r) ((r) & 0xffffu)

/* Translate va for an access of kind acc (ACC_* from monitor/gmem.h) as the guest's MMU would,
 * setting A (and D on a write) in its entries when the access is allowed. Returns 0, or
 * GWALK_FAULT with the #PF error code the hardware would report. With paging off, va is the
 * address. */
uint32_t guest_walk(const struct gmode *m, uint32_t va, unsigned acc, struct gtrans *t);

#endif

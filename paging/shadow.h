/* The lazy shadow-paging engine: shadow roots cached by guest CR3, filled on fault, kept
 * exact by tracking writes to the guest's tables. Runs in the monitor and in host unit tests. */
#ifndef PAGING_SHADOW_H
#define PAGING_SHADOW_H
#include <stdbool.h>
#include <stdint.h>
#include "paging/gwalk.h"
#include "monitor/layout.h"

/* The views of an address space: what the guest kernel may reach (CPL 0), what its user mode
 * may reach (CPL 3), and what its kernel may reach while SMAP is in force (CR4.SMAP set, EFLAGS.AC
 * clear): the kernel view without the user pages. A root has the third only while the guest's
 * CR4.SMAP is set (with paging on). */
enum { VIEW_KERNEL, VIEW_USER, VIEW_SMAP, VIEWS };

struct sh_config {
    unsigned protect;            /* PT_PROTECT_RO or PT_PROTECT_US */
    unsigned prefault;           /* neighbours filled with each fault */
    unsigned roots;              /* roots kept, 1..PT_ROOTS_MAX */
    uint32_t region;             /* the monitor region's linear address */
    uint64_t region_pde[2];      /* its two directory entries, linked into every root */
    uint32_t ones_frame;         /* a read-only page of all ones for guest-physical holes */
    bool code_window;            /* scan-before-execute: the kernel view maps guest pages NX and
                                    the guest kernel fetches from the code window (monitor/code.c) */
};

/* What a fill found. */
enum sh_result {
    SH_FILLED,                   /* the shadow entry is there: run the guest again */
    SH_NO_POOL,                  /* the pool ran dry: nothing changed, suspend for pages */
    SH_TABLE,                    /* the access touches a protected guest table: the entry is there
                                    but does not allow it; the caller emulates or steps it */
};

/* Pages a fill or a root switch may take from the pool, at most. */
#define SH_RESERVE 3u

/* Start with no shadows: pdpt_slot are two zeroed pool pages that will hold every root's PDPTs. */
void sh_init(const struct sh_config *c, struct pt_counters *count, const int pdpt_slot[2]);
/* Make the root for guest mode m current (found by its CR3, or built), with its SMAP view when
 * m has CR4.SMAP and paging on. false when the pool is short (nothing changed). A change of
 * CR4.SMAP alone is a sh_switch to the same root. */
bool sh_switch(const struct gmode *m);
/* Drop every shadow (a paging-mode change: CR0.PG, WP, CR4.PSE, PGE) and switch to m's root.
 * false when the pool is short (nothing changed). */
bool sh_reset(const struct gmode *m);
/* The real CR3 for the current root in view v (VIEW_SMAP: only while the root has it, see
 * sh_switch). */
uint32_t sh_cr3(unsigned view);
/* Fill the shadow entry for va in view after the guest's walk t allowed the access (a write
 * when write). SH_TABLE: the entry is there but the access needs the monitor. */
enum sh_result sh_fill(const struct gmode *m, unsigned view, uint32_t va, const struct gtrans *t, bool write);
/* The guest (from_user: its user mode) wrote n bytes at gpa, inside one page: bring the
 * shadows of that page up to date if it is a table. */
void sh_table_write(uint32_t gpa, uint32_t n, bool from_user);
/* Is guest-physical page gpa a protected table? */
bool sh_is_table(uint32_t gpa);
/* The current root's leaf shadow entry for va in view, or NULL. */
uint64_t *sh_leaf(unsigned view, uint32_t va);
/* Drop least recently used roots (never the current one) until `want` pool pages are free;
 * returns the roots dropped. */
unsigned sh_shrink(unsigned want);
/* Out of pages with no other root to drop: drop the current root's shadow tables (its
 * directories stay); they are refilled on fault. */
void sh_trim_current(void);
/* Link (or unlink) the monitor region's directory entries at base into every shadow
 * directory covering it; linking also gives the current root that directory. false when the
 * pool is short. */
bool sh_region_link(uint32_t base, bool link);
/* After the monitor moved: keep only the current root. */
void sh_relocated(void);
/* Flush the real TLB if a shadow page was freed or an entry cut down since the last call. */
void sh_sync(void);
/* ---- the code window (scan-before-execute, monitor/code.c) ----
 * CODE_WINDOW_SIZE bytes below the monitor region, in the kernel view of each root: where the
 * guest kernel's instruction fetches land (its code segments are biased to it), mapping the
 * executable copies of guest code pages. Entries live as long as the guest's translations of
 * the code they stand for; anything that may change one flushes the windows of every root. */
/* The guest-linear range [lo, lo + CODE_WINDOW_SIZE) the window stands for now. */
void sh_window_cover(uint32_t lo);
/* Map window address va to host frame `frame` (an SP_CODE copy) in the current root's kernel
 * views (both, while it has the SMAP view: they share the window's table): false when the pool
 * is short. */
bool sh_window_map(uint32_t va, uint32_t frame);
/* Empty the window of every root. */
void sh_window_flush(void);

/* Roots in use; live shadow pages. */
unsigned sh_roots(void);

#endif

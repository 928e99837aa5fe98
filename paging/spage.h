/* Shadow pages: pool pages holding shadow tables, found by what they shadow, counted by use. */
#ifndef PAGING_SPAGE_H
#define PAGING_SPAGE_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/mmu.h"
#include "monitor/layout.h"

/* What a shadow page shadows. The gfn and sub say which part of which guest page:
 *   SP_PD    a quarter (sub 0-3) of the guest page directory at gfn: 256 guest entries
 *            become one PAE directory of 512 entries;
 *   SP_PT    a half (sub 0-1) of the guest page table at gfn: 512 guest entries;
 *   SP_BIG   a half of the guest 4 MiB page whose first frame is gfn (no guest table);
 *   SP_PHYS_PD, SP_PHYS_PT  guest paging off: linear = physical (gfn: the range's first frame);
 *   SP_CODE  the executable copy of guest code page gfn (scan-before-execute, monitor/code.c);
 *   SP_WINDOW a half (sub) of the code window's table in root number gfn's kernel view.
 * role: the view, the directory entry's rights that shape the entries, a generation. */
enum sp_kind { SP_NONE, SP_PD, SP_PT, SP_BIG, SP_PHYS_PD, SP_PHYS_PT, SP_CODE, SP_WINDOW, SP_OTHER };
#define ROLE_USER 1u               /* the user view (VIEW_USER) */
#define ROLE_SMAP 2u               /* the kernel view under SMAP (VIEW_SMAP) */
#define ROLE_VIEW 3u               /* the view's bits: the view's number */
#define ROLE_PDE_W 4u
#define ROLE_PDE_D 8u              /* SP_BIG: the 4 MiB page is dirty */
#define ROLE_PDE_U 16u             /* VIEW_SMAP only: the directory entry has U set */
#define ROLE_GEN_SHIFT 5           /* bits 5-9: the generation (see sh_reset) */

struct sp_key { uint32_t gfn; uint8_t kind, sub; uint16_t role; };

static inline bool sp_key_eq(const struct sp_key *a, const struct sp_key *b)
{
    return a->gfn == b->gfn && a->kind == b->kind && a->sub == b->sub && a->role == b->role;
}

struct sp_meta {
    struct sp_key key;
    uint16_t refs;             /* directory entries or roots linking it */
    int16_t next;              /* hash chain */
    int16_t parent;            /* one directory (or -2 for a root) linking it, -1 none: a hint */
    uint16_t parent_idx;
    bool parent_many;          /* linked from more places than the hint says */
    int16_t fnext;             /* chain of the by-frame hash */
    uint32_t frame;            /* the host frame of the page */
};

/* Is a shadow page of this kind a leaf (4 KiB entries) / a guest table (so its gfn is protected)? */
static inline bool sp_kind_leaf(unsigned k) { return k == SP_PT || k == SP_BIG || k == SP_PHYS_PT; }
static inline bool sp_kind_table(unsigned k) { return k == SP_PD || k == SP_PT; }
/* Is the guest frame of a shadow page of this kind protected while the page lives? */
static inline bool sp_kind_protects(unsigned k) { return sp_kind_table(k) || k == SP_CODE; }

extern struct sp_meta sp_meta[MON_POOL_SLOTS];

/* Forget every shadow page (the pool's slots are the caller's to give back). */
void sp_reset(void);
/* The slot shadowing key, or -1. */
int sp_find(const struct sp_key *k);
/* A new zeroed shadow page for key from the pool (refs 0), or -1 when the pool is empty. */
int sp_new(const struct sp_key *k);
/* The page's entries. */
pae_entry_t *sp_entries(int slot);
/* One more link to slot. */
void sp_get(int slot);
/* One link fewer; at none the page is freed, its children released and its guest frame
 * unprotected when no other shadow page shadows it. */
void sp_put(int slot);
/* Record that directory slot `parent` entry idx (or a root, parent -2) links child. */
void sp_note_parent(int child, int parent, unsigned idx);
/* The shadow page whose host frame is pfn, or -1. */
int sp_of_frame(uint32_t pfn);
/* The shadow page directory entry e links, or -1 (not present, or the monitor region's). */
int sp_linked(pae_entry_t e);
/* If directory entry *e links a shadow page: clear it and release that page. */
void sp_unlink(pae_entry_t *e);
/* Visit every live shadow page shadowing guest frame gfn (any kind, sub, role). */
void sp_each_of_gfn(uint32_t gfn, void (*fn)(int slot, void *arg), void *arg);
/* Live shadow pages now. */
unsigned sp_count(void);
/* Set when a shadow page was freed or an entry cut down: the real TLB may still hold the old
 * translation, so it must be flushed before the guest runs again. */
extern bool sp_tlb_stale;

#endif

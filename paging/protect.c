/* Protecting shadowed guest tables, and the reverse map from guest frames to shadow leaves.
 *
 * The invariant this file keeps: while any shadow page shadows guest frame G (G is a
 * "table"), no shadow leaf entry lets the guest write G (mode ro), or reach G at all (mode
 * us: the entry is supervisor-only, so the monitor can still use the linear address). The
 * shadow entries derived from G's entries then stay exact, because every guest write to G
 * traps and is applied by the monitor, which clears the derived shadow entries.
 *
 * The reverse map is deliberately small: the guest frame table word of G carries the slot of
 * one leaf shadow page that maps G with more than protection allows (the hint) and a bit
 * saying there may be others. Protecting G scans the hinted page, or every leaf shadow page
 * when the bit is set. A stale hint costs a scan of one page, never a missed entry: every
 * leaf that grants access is recorded when it is written.
 */
#include "paging/protect.h"
#include "paging/spage.h"
#include "paging/env.h"
#include "monitor/pool.h"

#define NREC MON_POOL_SLOTS
#define NHEAD 256u

/* One protected frame: how many shadow pages shadow it, writes since it was last used. */
static struct rec { uint32_t gfn; uint16_t nsp, ncode, writes; int16_t next; } rec[NREC];
static int16_t head[NHEAD], free_rec;
static unsigned nrec, mode;

void prot_reset(unsigned m)
{
    mode = m;
    nrec = 0;
    for (unsigned i = 0; i < NHEAD; i++) head[i] = -1;
    for (unsigned i = 0; i < NREC; i++) rec[i].next = (int16_t)(i + 1 < NREC ? (int)i + 1 : -1);
    free_rec = 0;
}

unsigned prot_mode(void) { return mode; }
unsigned prot_count(void) { return nrec; }

/* The record of gfn, or NULL. */
static struct rec *find(uint32_t gfn)
{
    for (int i = head[gfn % NHEAD]; i >= 0; i = rec[i].next)
        if (rec[i].gfn == gfn) return &rec[i];
    return 0;
}

bool prot_is_table(uint32_t gfn)
{
    return gfn < env_guest_pages() && (env_gft(gfn) & GFT_TABLE);
}

/* Cut down every entry of leaf page slot that maps host frame pfn beyond what protection
 * allows: `drop` is the right taken away (PTE_W, or PTE_U in us mode for a table). */
static void cut_leaf(int slot, uint32_t pfn, pae_entry_t drop)
{
    pae_entry_t *e = sp_entries(slot);
    for (unsigned i = 0; i < PAE_ENTRIES; i++)
        if ((e[i] & PTE_P) && (e[i] & drop) && (uint32_t)((e[i] & PAE_ADDR_MASK) >> PAGE_SHIFT) == pfn) {
            e[i] &= ~drop;
            sp_tlb_stale = true;
        }
}

/* Cut every recorded mapping of gfn down to what its protection allows. */
static void cut_all(uint32_t gfn, pae_entry_t drop)
{
    uint32_t w = env_gft(gfn), pfn = w & GFT_FRAME;
    unsigned hint = (w & GFT_HINT) >> GFT_HINT_SHIFT;
    if (w & GFT_MANY) {
        for (int s = 0; s < (int)MON_POOL_SLOTS; s++)
            if (sp_kind_leaf(sp_meta[s].key.kind)) cut_leaf(s, pfn, drop);
    } else if (hint && sp_kind_leaf(sp_meta[hint - 1].key.kind)) {
        cut_leaf((int)hint - 1, pfn, drop);
    }
}

/* A frame protected only for a code copy is read-only in us mode too: the guest's user code
 * may run from it and read it (only tables are hidden from the guest there). */
bool prot_only_code(uint32_t gfn)
{
    struct rec *r = find(gfn);
    return r && r->nsp == r->ncode;
}

void prot_table_add(uint32_t gfn, bool code)
{
    struct rec *r = find(gfn);
    if (r) {
        bool was_code = r->nsp == r->ncode;
        r->nsp++;
        r->ncode += code;
        /* A code page that becomes a table too is hidden in us mode from now on. */
        if (was_code && !code && mode == PT_PROTECT_US && gfn < env_guest_pages()) cut_all(gfn, PTE_U);
        return;
    }
    if (free_rec < 0) return;                 /* cannot happen: one record per shadow page at most */
    int i = free_rec;
    free_rec = rec[i].next;
    rec[i] = (struct rec){ gfn, 1, code, 0, head[gfn % NHEAD] };
    head[gfn % NHEAD] = (int16_t)i;
    nrec++;
    if (gfn >= env_guest_pages()) return;
    cut_all(gfn, mode == PT_PROTECT_US && !code ? PTE_U : PTE_W);
    uint32_t w = env_gft(gfn);
    env_gft_set(gfn, (w & GFT_FRAME) | GFT_TABLE);
}

void prot_table_del(uint32_t gfn, bool code)
{
    int16_t *link = &head[gfn % NHEAD];
    for (int i = *link; i >= 0; link = &rec[i].next, i = *link) {
        if (rec[i].gfn != gfn) continue;
        rec[i].ncode -= code;
        if (--rec[i].nsp) return;
        *link = rec[i].next;
        rec[i].next = free_rec;
        free_rec = (int16_t)i;
        nrec--;
        if (gfn < env_guest_pages()) env_gft_set(gfn, env_gft(gfn) & ~GFT_TABLE);
        return;
    }
}

void prot_note_map(uint32_t gfn, int slot)
{
    if (gfn >= env_guest_pages()) return;
    uint32_t w = env_gft(gfn);
    unsigned hint = (w & GFT_HINT) >> GFT_HINT_SHIFT;
    if (hint == (unsigned)slot + 1) return;
    if (!hint) w |= (uint32_t)(slot + 1) << GFT_HINT_SHIFT;
    else w |= GFT_MANY;
    env_gft_set(gfn, w);
}

unsigned prot_count_write(uint32_t gfn)
{
    struct rec *r = find(gfn);
    if (!r) return 0;
    if (r->writes < 0xffff) r->writes++;
    return r->writes;
}

void prot_used(uint32_t gfn)
{
    struct rec *r = find(gfn);
    if (r) r->writes = 0;
}

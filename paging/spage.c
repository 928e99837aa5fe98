/* Shadow pages: the cache of shadow tables by what they shadow, with reference counts.
 *
 * Every shadow table is one pool page, found by its key (guest frame, kind, part, role), so
 * a guest table linked into many address spaces is shadowed once per role. A page lives as
 * long as something links it: a root (for directories) or a shadow directory entry (for
 * tables). When the last link goes, its own children are released and its slot returns to
 * the pool; nothing is ever left unreachable, so the pool's accounting stays exact.
 */
#include "paging/spage.h"
#include "paging/protect.h"
#include "monitor/pool.h"
#include "lib/string.h"

#define NHEAD 256u

struct sp_meta sp_meta[MON_POOL_SLOTS];
static int16_t head[NHEAD], fhead[NHEAD];
static unsigned live;
bool sp_tlb_stale;

void sp_reset(void)
{
    for (unsigned i = 0; i < NHEAD; i++) head[i] = fhead[i] = -1;
    memset(sp_meta, 0, sizeof sp_meta);
    live = 0;
}

static unsigned hash(uint32_t gfn) { return (gfn ^ (gfn >> 8)) % NHEAD; }

int sp_find(const struct sp_key *k)
{
    for (int s = head[hash(k->gfn)]; s >= 0; s = sp_meta[s].next)
        if (sp_key_eq(&sp_meta[s].key, k)) return s;
    return -1;
}

pae_entry_t *sp_entries(int slot) { return pool_ptr(slot); }

int sp_new(const struct sp_key *k)
{
    int s = pool_get();
    if (s == POOL_NONE) return -1;
    memset(pool_ptr(s), 0, PAGE_SIZE);
    uint32_t pfn = pool_frame(s);
    sp_meta[s] = (struct sp_meta){ *k, 0, head[hash(k->gfn)], -1, 0, false, fhead[hash(pfn)], pfn };
    head[hash(k->gfn)] = (int16_t)s;
    fhead[hash(pfn)] = (int16_t)s;
    live++;
    if (sp_kind_protects(k->kind)) prot_table_add(k->gfn, k->kind == SP_CODE);
    return s;
}

void sp_get(int slot) { sp_meta[slot].refs++; }

void sp_note_parent(int child, int parent, unsigned idx)
{
    struct sp_meta *m = &sp_meta[child];
    if (m->parent == -1) { m->parent = (int16_t)parent; m->parent_idx = (uint16_t)idx; }
    else if (m->parent != parent || m->parent_idx != idx) m->parent_many = true;
}

int sp_of_frame(uint32_t pfn)
{
    for (int s = fhead[hash(pfn)]; s >= 0; s = sp_meta[s].fnext)
        if (sp_meta[s].frame == pfn) return s;
    return -1;
}

int sp_linked(pae_entry_t e)
{
    return (e & PTE_P) ? sp_of_frame((uint32_t)((e & PAE_ADDR_MASK) >> PAGE_SHIFT)) : -1;
}

void sp_unlink(pae_entry_t *e)
{
    int child = sp_linked(*e);
    if (child < 0) return;               /* empty, or the monitor region: not a shadow page */
    *e = 0;
    sp_put(child);
}

/* Unhook slot from both hash chains. */
static void unhash(int slot)
{
    int16_t *link = &head[hash(sp_meta[slot].key.gfn)];
    while (*link >= 0 && *link != slot) link = &sp_meta[*link].next;
    if (*link == slot) *link = sp_meta[slot].next;
    link = &fhead[hash(sp_meta[slot].frame)];
    while (*link >= 0 && *link != slot) link = &sp_meta[*link].fnext;
    if (*link == slot) *link = sp_meta[slot].fnext;
}

void sp_put(int slot)
{
    struct sp_meta *m = &sp_meta[slot];
    if (!m->refs || --m->refs) return;
    unsigned kind = m->key.kind;
    if (kind == SP_PD || kind == SP_PHYS_PD) {
        /* A directory releases the tables it links (the monitor region's entries are not
         * shadow pages: they are recognised by pointing at no shadow page's frame). */
        pae_entry_t *e = sp_entries(slot);
        for (unsigned i = 0; i < PAE_ENTRIES; i++) sp_unlink(&e[i]);
    }
    unhash(slot);
    if (sp_kind_protects(kind)) prot_table_del(m->key.gfn, kind == SP_CODE);
    *m = (struct sp_meta){ { 0, SP_NONE, 0, 0 }, 0, -1, -1, 0, false, -1, 0 };
    live--;
    pool_put(slot);
    sp_tlb_stale = true;
}

void sp_each_of_gfn(uint32_t gfn, void (*fn)(int slot, void *arg), void *arg)
{
    /* Collect first: fn may free pages, and with them others on the same chain. A frame has
     * at most 4 quarters x 3 views of a directory, 2 halves x 8 roles (W in each view, U in the
     * SMAP view) of a table, 2 halves x 16 roles (D too) of a 4 MiB page, a code copy, and for
     * frame 0 (paging off) 4 x 3 directories and 3 tables: 76. */
    int16_t found[80];
    unsigned n = 0;
    for (int s = head[hash(gfn)]; s >= 0 && n < 80; s = sp_meta[s].next)
        if (sp_meta[s].key.gfn == gfn && sp_meta[s].key.kind != SP_NONE) found[n++] = (int16_t)s;
    for (unsigned i = 0; i < n; i++)
        if (sp_meta[found[i]].key.gfn == gfn && sp_meta[found[i]].key.kind != SP_NONE) fn(found[i], arg);
}

unsigned sp_count(void) { return live; }

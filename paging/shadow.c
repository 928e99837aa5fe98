/* The lazy shadow-paging engine.
 *
 * The story. The real CPU runs on shadow page tables in PAE format that the monitor builds
 * from the guest's 32-bit tables, lazily: a shadow entry is made only when the guest faults
 * on its address. The guest kernel and the guest's user code both run at CPL3, so each
 * guest address space has two shadow roots: the kernel view (everything the guest kernel
 * may reach) and the user view (only what the guest's tables mark user). While the guest's
 * CR4.SMAP is set it has a third, the SMAP view: the kernel view without the user pages, which
 * the guest kernel runs on while its EFLAGS.AC is clear, so that the real CPU refuses it the
 * user pages as SMAP would (paging.c picks the view; STAC, CLAC, POPF and IRET then switch
 * between two cached views instead of flushing one). Roots are cached by the guest's CR3, a
 * bounded number, least recently used dropped first, so a switch back to a known address space
 * finds its shadows.
 *
 * One guest directory becomes, per view, four PAE directories (one per quarter of the
 * address space, made on demand); one guest table becomes two PAE tables (one per half);
 * a 4 MiB guest page becomes two PAE tables of small pages. Shadow pages are found by what
 * they shadow (spage.c), so a table shared between address spaces is shadowed once.
 *
 * The invariants, which the host unit tests check after every operation:
 *  1. a shadow entry never grants more than the guest's tables grant, in its view: present
 *     only where the guest's walk succeeds, writable only where the guest may write and has
 *     already set D (so the first write faults and sets it), in the user view only for user
 *     pages, in the SMAP view only for supervisor pages;
 *  2. a shadow entry points only at the VM's own RAM frames, the shared page of ones, or
 *     another shadow page; never at monitor, pool, host or other VMs' frames;
 *  3. every guest frame that a shadow page shadows is protected (protect.c): the guest's
 *     writes to it trap and are applied by the monitor, which clears the shadow entries
 *     derived from what changed (sh_table_write). Shadows are therefore never stale, and a
 *     CR3 write can reuse a cached root without looking at the guest's tables again;
 *  4. the monitor region's two directory entries are in every root and never change here;
 *  5. with the code window on, the kernel views map no guest page executable: the guest
 *     kernel executes only the copies in the window (monitor/code.c), which both kernel views
 *     of a root share.
 * A/D bits: A is set in the guest's entries by the walk that precedes every fill; D by the
 * walk of the first write. Nothing the real CPU sets in a shadow entry needs copying back.
 */
#include "paging/shadow.h"
#include "paging/spage.h"
#include "paging/protect.h"
#include "paging/env.h"
#include "monitor/pool.h"
#include "monitor/gmem.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

#define GPD_PHYS 1u               /* the root of guest paging off (no guest directory) */
#define UNSHADOW_WRITES 8u        /* writes with no use in between: no longer a table */
#define REGION_Q(base) PAE_PDPT_INDEX(base)

struct root {
    uint32_t gpd;                 /* guest directory address, or GPD_PHYS */
    uint32_t lru;
    bool used;
    int16_t pd[VIEWS][4];         /* per view, per quarter: shadow directory slot or -1 */
};

/* One slot more than the most roots kept: a switch builds the new root before it lets the
 * old one go, since the monitor runs on the old one until the new CR3 is loaded. */
#define NROOTS ((int)PT_ROOTS_MAX + 1)
static struct root roots[NROOTS];
static struct sh_config cfg;
static struct pt_counters *cnt;
static int pdpt_slot[2], cur = -1;
static uint32_t clock;
static uint8_t gen;               /* bumped by sh_reset: older shadow pages are never found again */
static uint32_t window_lo;        /* the guest-linear range the code window stands for */
/* The window entries made since the last flush, so that a flush clears those and not whole
 * pages; past WLOG of them, every window page is cleared. */
#define WLOG 64u
static struct { int16_t slot; uint16_t idx; } wlog[WLOG];
static unsigned wlog_n;
static bool wp;                   /* the guest's CR0.WP: constant between resets */
static bool smap;                 /* the guest's CR4.SMAP with paging on: the current root has
                                     its SMAP view (the view's directory for the region) */

/* ---- roots ---- */

/* Root r's PDPT for view v: 32 bytes of one of the two PDPT pages (128 PDPTs each); a root's
 * are next to each other. */
_Static_assert(NROOTS * VIEWS <= 256, "the PDPTs of every root must fit the two PDPT pages");
static pae_entry_t *pdpt(int r, unsigned v)
{
    unsigned i = (unsigned)r * VIEWS + v;
    return &((pae_entry_t *)pool_ptr(pdpt_slot[i / 128]))[(i % 128) * 4];
}

uint32_t sh_cr3(unsigned view)
{
    unsigned i = (unsigned)cur * VIEWS + view;
    return (pool_frame(pdpt_slot[i / 128]) << PAGE_SHIFT) + (i % 128) * 32u;
}

unsigned sh_roots(void)
{
    unsigned n = 0;
    for (unsigned r = 0; r < NROOTS; r++) n += roots[r].used;
    return n;
}

/* Keep the page counters (now, and the most so far) current. */
static void count_pages(void)
{
    cnt->pages_now = sp_count();
    if (cnt->pages_now > cnt->pages_max) cnt->pages_max = cnt->pages_now;
    if (prot_count() > cnt->tables_max) cnt->tables_max = prot_count();
}

/* The role bits of a key: the view, the directory entry's rights that shape the entries (its U
 * only in the SMAP view, which leaves out the user pages below a user directory entry), and the
 * generation. */
static uint16_t role_of(unsigned view, bool pde_w, bool pde_d, bool pde_u)
{
    return (uint16_t)(view | (pde_w ? ROLE_PDE_W : 0) | (pde_d ? ROLE_PDE_D : 0) |
                      (view == VIEW_SMAP && pde_u ? ROLE_PDE_U : 0) | (gen << ROLE_GEN_SHIFT));
}

/* Shadow directory for quarter q of root r, view v; made when missing. -1: pool empty. */
static int root_pd(int r, unsigned v, unsigned q)
{
    struct root *rt = &roots[r];
    if (rt->pd[v][q] >= 0) return rt->pd[v][q];
    bool phys = rt->gpd == GPD_PHYS;
    struct sp_key k = { phys ? 0 : rt->gpd >> PAGE_SHIFT, phys ? SP_PHYS_PD : SP_PD, (uint8_t)q, role_of(v, false, false, false) };
    int s = sp_find(&k);
    if (s < 0) {
        s = sp_new(&k);
        if (s < 0) return -1;
        if (q == REGION_Q(cfg.region)) {
            pae_entry_t *e = sp_entries(s);
            e[PAE_PD_INDEX(cfg.region)] = cfg.region_pde[0];
            e[PAE_PD_INDEX(cfg.region) + 1] = cfg.region_pde[1];
        }
    }
    sp_get(s);
    sp_note_parent(s, -2, ((unsigned)r * VIEWS + v) * 4 + q);
    rt->pd[v][q] = (int16_t)s;
    pdpt(r, v)[q] = ((pae_entry_t)sp_meta[s].frame << PAGE_SHIFT) | PTE_P;
    /* The CPU reads the PDPT when CR3 is loaded: reload it for the root in use. */
    if (r == cur) sp_tlb_stale = true;
    return s;
}

/* Forget root r and release its directories. */
static void root_drop(int r)
{
    struct root *rt = &roots[r];
    for (unsigned v = 0; v < VIEWS; v++)
        for (unsigned q = 0; q < 4; q++) {
            pdpt(r, v)[q] = 0;
            if (rt->pd[v][q] >= 0) sp_put(rt->pd[v][q]);
            rt->pd[v][q] = -1;
        }
    rt->used = false;
    cnt->roots_dropped++;
}

/* The least recently used root other than the current one, or -1. */
static int root_lru(void)
{
    int best = -1;
    for (int r = 0; r < NROOTS; r++)
        if (roots[r].used && r != cur && (best < 0 || roots[r].lru < roots[best].lru)) best = r;
    return best;
}

unsigned sh_shrink(unsigned want)
{
    unsigned n = 0;
    int r;
    while (pool_free_count() < want && (r = root_lru()) >= 0) { root_drop(r); n++; }
    if (n) cnt->shrinks++;
    count_pages();
    return n;
}

void sh_trim_current(void)
{
    if (cur < 0) return;
    /* The current root keeps its directories (and the monitor region); its tables go, and
     * come back one fault at a time. */
    for (unsigned v = 0; v < VIEWS; v++)
        for (unsigned q = 0; q < 4; q++) {
            int pd = roots[cur].pd[v][q];
            if (pd < 0) continue;
            pae_entry_t *e = sp_entries(pd);
            for (unsigned i = 0; i < PAE_ENTRIES; i++) sp_unlink(&e[i]);
        }
    cnt->shrinks++;
    count_pages();
}

/* Give root r the directory of the region's quarter in each view it needs (the SMAP view
 * while smap is set): the monitor runs on whichever is loaded. false when the pool is short. */
static bool root_views(int r)
{
    for (unsigned v = 0; v < VIEWS; v++)
        if (roots[r].pd[v][REGION_Q(cfg.region)] < 0 && (v != VIEW_SMAP || smap) &&
            root_pd(r, v, REGION_Q(cfg.region)) < 0) return false;
    return true;
}

/* Root for guest directory gpd (found or made, with the region's directories), or -1. */
static int root_get(uint32_t gpd)
{
    int free_r = -1;
    for (int r = 0; r < NROOTS; r++) {
        if (roots[r].used && roots[r].gpd == gpd) {
            if (smap && !root_views(r)) return -1;    /* built before CR4.SMAP was set */
            roots[r].lru = ++clock;
            cnt->roots_reused++;
            return r;
        }
        if (!roots[r].used && free_r < 0) free_r = r;
    }
    /* At most cfg.roots roots: the least recently used go first, never the one in use (with
     * pt.roots=1 the new root takes the spare slot, and sh_switch drops the old one). */
    int victim;
    while (sh_roots() >= cfg.roots && (victim = root_lru()) >= 0) root_drop(victim);
    for (int r = 0; r < NROOTS && free_r < 0; r++) if (!roots[r].used) free_r = r;
    if (free_r < 0) return -1;
    struct root *rt = &roots[free_r];
    *rt = (struct root){ gpd, ++clock, true, { { -1, -1, -1, -1 }, { -1, -1, -1, -1 }, { -1, -1, -1, -1 } } };
    memset(pdpt(free_r, 0), 0, 32 * VIEWS);
    if (!root_views(free_r)) { root_drop(free_r); cnt->roots_dropped--; return -1; }
    cnt->roots_built++;
    return free_r;
}

static uint32_t gpd_of(const struct gmode *m) { return (m->cr0 & CR0_PG) ? (m->cr3 & PT32_ADDR_MASK) : GPD_PHYS; }
/* Does mode m have SMAP in force for the guest kernel (CR4.SMAP with paging on)? */
static bool smap_of(const struct gmode *m) { return (m->cr4 & CR4_SMAP) && (m->cr0 & CR0_PG); }

void sh_init(const struct sh_config *c, struct pt_counters *count, const int slot[2])
{
    cfg = *c;
    cnt = count;
    pdpt_slot[0] = slot[0];
    pdpt_slot[1] = slot[1];
    cur = -1;
    clock = 0;
    gen = 0;
    smap = false;
    sp_reset();
    prot_reset(c->protect);
    for (unsigned r = 0; r < NROOTS; r++) roots[r].used = false;
}

bool sh_switch(const struct gmode *m)
{
    uint32_t gpd = gpd_of(m);
    wp = m->cr0 & CR0_WP;
    smap = smap_of(m);
    if (cur >= 0 && roots[cur].gpd == gpd) {
        if (smap && !root_views(cur)) return false;     /* CR4.SMAP just set: its view's directory */
        roots[cur].lru = ++clock;
        return true;
    }
    if (pool_free_count() < 2u + smap) return false;
    int r = root_get(gpd);
    if (r < 0) return false;
    int old = cur;
    cur = r;
    /* Past the limit, the root just left goes (after the caller loads the new CR3, which the
     * flush in sh_sync does as well). */
    if (old >= 0 && sh_roots() > cfg.roots) { env_load_cr3(sh_cr3(VIEW_KERNEL)); root_drop(old); }
    count_pages();
    return true;
}

bool sh_reset(const struct gmode *m)
{
    if (pool_free_count() < 2u + smap_of(m)) return false;
    /* The root in use stays until the new one is built: the monitor runs on it. */
    int old = cur;
    wp = m->cr0 & CR0_WP;
    smap = smap_of(m);
    for (int r = 0; r < NROOTS; r++) if (roots[r].used && r != old) root_drop(r);
    if (old >= 0) roots[old].gpd = 0xffffffffu;       /* never found again */
    gen = (uint8_t)((gen + 1) & 0x1f);
    int r = root_get(gpd_of(m));                      /* cur is still old: it is not evicted */
    if (r < 0) return false;                          /* cannot happen: two pages were free */
    cur = r;
    if (old >= 0 && old != r) {
        /* Load the new root before the old one's directories go back to the pool. */
        env_load_cr3(sh_cr3(VIEW_KERNEL));
        root_drop(old);
    }
    cnt->zaps++;
    count_pages();
    return true;
}

/* ---- fills ---- */

/* The leaf entry for guest-physical gpa with the guest's rights; records it in the reverse map. */
static pae_entry_t make_leaf(uint32_t gpa, bool may_write, bool dirty, int slot)
{
    pae_entry_t nx = cfg.code_window && !(sp_meta[slot].key.role & ROLE_USER) ? PTE_NX : 0;
    if (!gpa_is_ram(gpa)) return ((pae_entry_t)cfg.ones_frame << PAGE_SHIFT) | PTE_P | PTE_U | nx;
    uint32_t gfn = gpa >> PAGE_SHIFT;
    pae_entry_t e = ((pae_entry_t)gpa_frame(gpa) << PAGE_SHIFT) | PTE_P | PTE_U | PTE_A | nx;
    if (prot_is_table(gfn)) {
        if (prot_mode() == PT_PROTECT_US && !prot_only_code(gfn)) e &= ~(pae_entry_t)PTE_U;
        return e;
    }
    if (may_write && dirty) e |= PTE_W | PTE_D;
    if (prot_mode() == PT_PROTECT_US || (e & PTE_W)) prot_note_map(gfn, slot);
    return e;
}

/* May the guest write through entries with combined R/W w, in view v? */
static bool view_may_write(unsigned view, bool w)
{
    return w || (view != VIEW_USER && !wp);
}

/* The shadow entry for guest PTE gpte in the table page `leaf` (an SP_PT), or 0 when the
 * guest has not accessed it yet (a shadow entry would let the CPU use it without setting the
 * guest's A bit) or the page's view may not see it. */
static pae_entry_t leaf_of_gpte(int leaf, uint32_t gpte)
{
    unsigned role = sp_meta[leaf].key.role;
    if (!(gpte & PTE_P) || !(gpte & PTE_A)) return 0;
    if ((role & ROLE_USER) && !(gpte & PTE_U)) return 0;
    if ((role & ROLE_PDE_U) && (gpte & PTE_U)) return 0;    /* the SMAP view: a user page */
    uint32_t gpa = gpte & PT32_ADDR_MASK;
    if (!gpa_is_ram(gpa)) return 0;
    bool w = (role & ROLE_PDE_W) && (gpte & PTE_W);
    return make_leaf(gpa, w || (!(role & ROLE_USER) && !wp), gpte & PTE_D, leaf);
}

/* Fill up to cfg.prefault entries after index i of leaf page `leaf` that the guest has present
 * and accessed already: the seed's "map in larger chunks". */
static void prefault(int leaf, unsigned i)
{
    const struct sp_key *k = &sp_meta[leaf].key;
    pae_entry_t *e = sp_entries(leaf);
    unsigned end = i + 1 + cfg.prefault;
    if (end > PAE_ENTRIES) end = PAE_ENTRIES;
    /* The guest table's words, read in place (make_leaf below looks up no guest memory). */
    const uint32_t *gt = k->kind == SP_PT ? gpa_words(k->gfn << PAGE_SHIFT) + k->sub * 512u : 0;
    for (unsigned j = i + 1; j < end; j++) {
        if (e[j]) continue;
        uint32_t gpa;
        bool w, d;
        if (k->kind == SP_PHYS_PT) {
            gpa = (k->gfn << PAGE_SHIFT) + j * PAGE_SIZE;
            w = d = true;
        } else if (k->kind == SP_BIG) {
            gpa = ((k->gfn + k->sub * 512u + j) << PAGE_SHIFT);
            w = k->role & ROLE_PDE_W;            /* the 4 MiB page's rights, WP folded in */
            d = k->role & ROLE_PDE_D;
        } else {
            if ((e[j] = leaf_of_gpte(leaf, gt[j])) != 0) cnt->prefaulted++;
            continue;
        }
        if (!gpa_is_ram(gpa)) continue;
        e[j] = make_leaf(gpa, w, d, leaf);
        cnt->prefaulted++;
    }
}

enum sh_result sh_fill(const struct gmode *m, unsigned view, uint32_t va, const struct gtrans *t, bool write)
{
    int pd = root_pd(cur, view, PAE_PDPT_INDEX(va));
    if (pd < 0) return SH_NO_POOL;
    pae_entry_t *spde = &sp_entries(pd)[PAE_PD_INDEX(va)];
    struct sp_key k;
    if (!(m->cr0 & CR0_PG)) {
        k = (struct sp_key){ (va & ~(LARGE_2M - 1)) >> PAGE_SHIFT, SP_PHYS_PT, 0, role_of(view, true, true, false) };
    } else {
        uint32_t gpde = gpa_read32(t->pde_gpa);
        bool w = view_may_write(view, gpde & PTE_W), u = gpde & PTE_U;
        if (t->large)
            k = (struct sp_key){ (gpde & PT32_ADDR_4M) >> PAGE_SHIFT, SP_BIG, (uint8_t)((va >> 21) & 1),
                                 role_of(view, w, gpde & PTE_D, u) };
        else
            k = (struct sp_key){ gpde >> PAGE_SHIFT, SP_PT, (uint8_t)((va >> 21) & 1), role_of(view, w, false, u) };
        prot_used(gpd_of(m) >> PAGE_SHIFT);
        if (!t->large) prot_used(gpde >> PAGE_SHIFT);
    }
    int leaf = sp_linked(*spde);
    if (leaf >= 0 && !sp_key_eq(&sp_meta[leaf].key, &k)) {
        /* Linked for another guest entry: cannot happen while directory writes are tracked,
         * but a wrong link is never kept. */
        sp_unlink(spde);
        leaf = -1;
    }
    if (leaf < 0) {
        leaf = sp_find(&k);
        if (leaf < 0 && (leaf = sp_new(&k)) < 0) return SH_NO_POOL;
        sp_get(leaf);
        sp_note_parent(leaf, pd, PAE_PD_INDEX(va));
        *spde = ((pae_entry_t)sp_meta[leaf].frame << PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
    }
    unsigned i = PAE_PT_INDEX(va);
    sp_entries(leaf)[i] = make_leaf(t->gpa, view_may_write(view, t->write_ok), t->dirty, leaf);
    if (cfg.prefault) prefault(leaf, i);
    count_pages();
    if (gpa_is_ram(t->gpa) && prot_is_table(t->gpa >> PAGE_SHIFT) &&
        (write || (prot_mode() == PT_PROTECT_US && !prot_only_code(t->gpa >> PAGE_SHIFT))))
        return SH_TABLE;
    return SH_FILLED;
}

uint64_t *sh_leaf(unsigned view, uint32_t va)
{
    if (cur < 0) return 0;
    int pd = roots[cur].pd[view][PAE_PDPT_INDEX(va)];
    if (pd < 0) return 0;
    int leaf = sp_linked(sp_entries(pd)[PAE_PD_INDEX(va)]);
    return leaf < 0 ? 0 : &sp_entries(leaf)[PAE_PT_INDEX(va)];
}

/* ---- guest table writes ---- */

struct write_arg { uint32_t first, last; };     /* guest entry indices written */

/* Clear the shadow entries of page `slot` derived from the written guest entries. */
static void clear_derived(int slot, void *arg)
{
    const struct write_arg *a = arg;
    const struct sp_key *k = &sp_meta[slot].key;
    pae_entry_t *e = sp_entries(slot);
    bool kernel = !(k->role & ROLE_USER);
    for (uint32_t gi = a->first; gi <= a->last; gi++) {
        if (k->kind == SP_PT && gi / 512 == k->sub) {
            /* The new entry, if the guest has accessed it already (kernels write their own
             * mappings with A and D set): the next access needs no fault. */
            pae_entry_t old = e[gi % 512];
            e[gi % 512] = leaf_of_gpte(slot, gpa_read32((k->gfn << PAGE_SHIFT) + gi * 4));
            if (e[gi % 512]) cnt->prefaulted++;
            /* A code page mapped elsewhere now: the window's copy of it may stand for nothing. */
            if (cfg.code_window && kernel && (old & PTE_P) && ((old ^ e[gi % 512]) & (PAE_ADDR_MASK | PTE_P)) &&
                env_code_source((uint32_t)((old & PAE_ADDR_MASK) >> PAGE_SHIFT)))
                sh_window_flush();
        } else if (k->kind == SP_PD && gi / 256 == k->sub) {
            /* A 4 MiB range that meets the code the window stands for. */
            if (cfg.code_window && kernel &&
                (uint32_t)((gi << 22) + (1u << 22) - window_lo - 1) < CODE_WINDOW_SIZE + (1u << 22) - 1)
                sh_window_flush();
            sp_unlink(&e[(gi % 256) * 2]);
            sp_unlink(&e[(gi % 256) * 2 + 1]);
        }
    }
}

/* Does directory entry e link the shadow page at host frame pfn? (The CPU sets A in it.) */
static bool links(pae_entry_t e, uint32_t pfn)
{
    return (e & PTE_P) && (uint32_t)((e & PAE_ADDR_MASK) >> PAGE_SHIFT) == pfn;
}

/* Unlink leaf page `slot` from every directory entry that links it. */
static void unlink_leaf(int slot, void *unused)
{
    (void)unused;
    struct sp_meta *m = &sp_meta[slot];
    uint32_t pfn = m->frame;
    if (!m->parent_many && m->parent >= 0) {
        pae_entry_t *d = &sp_entries(m->parent)[m->parent_idx];
        if (links(*d, pfn) && m->refs == 1) { *d = 0; sp_put(slot); return; }
    }
    for (int p = 0; p < (int)MON_POOL_SLOTS && sp_meta[slot].key.kind != SP_NONE; p++) {
        unsigned kind = sp_meta[p].key.kind;
        if (kind != SP_PD && kind != SP_PHYS_PD) continue;
        pae_entry_t *e = sp_entries(p);
        for (unsigned i = 0; i < PAE_ENTRIES; i++)
            if (links(e[i], pfn)) { e[i] = 0; sp_put(slot); if (sp_meta[slot].key.kind == SP_NONE) break; }
    }
}

/* Callback: unlink a shadow of a guest page table (not a 4 MiB page's, which shares no frame). */
static void unlink_if_table(int slot, void *arg)
{
    if (sp_meta[slot].key.kind == SP_PT) unlink_leaf(slot, arg);
}

/* Callback: count the guest-table shadows of a frame. */
static void count_tables(int slot, void *arg)
{
    if (sp_kind_table(sp_meta[slot].key.kind)) ++*(unsigned *)arg;
}

/* Stop shadowing guest frame gfn (it stopped being a table): drop every shadow page of it.
 * A directory of the current root stays: it is the address space in use. */
static void unshadow(uint32_t gfn)
{
    if (cur >= 0 && roots[cur].gpd >> PAGE_SHIFT == gfn && roots[cur].gpd != GPD_PHYS) return;
    unsigned tables = 0;
    sp_each_of_gfn(gfn, count_tables, &tables);
    if (!tables) return;                          /* only a code copy protects it */
    /* Its tables go untracked: window entries derived through them could go stale. */
    if (cfg.code_window) sh_window_flush();
    for (int r = 0; r < NROOTS; r++)
        if (roots[r].used && roots[r].gpd != GPD_PHYS && roots[r].gpd >> PAGE_SHIFT == gfn) root_drop(r);
    sp_each_of_gfn(gfn, unlink_if_table, 0);
    cnt->unshadowed++;
}

/* Callback: only guest tables (not data pages that happen to share the frame number's hash),
 * and a code copy of the frame, which decides itself what a write means to it. */
static void clear_if_table(int slot, void *arg)
{
    unsigned kind = sp_meta[slot].key.kind;
    if (kind == SP_PD || kind == SP_PT) clear_derived(slot, arg);
    if (kind == SP_CODE) {
        const struct write_arg *a = arg;
        env_code_written(slot, a->first * 4, a->last * 4 + 3);
    }
}

void sh_table_write(uint32_t gpa, uint32_t n, bool from_user)
{
    uint32_t gfn = gpa >> PAGE_SHIFT;
    if (!n || !prot_is_table(gfn)) return;
    unsigned writes = prot_count_write(gfn);
    if (from_user || writes >= UNSHADOW_WRITES) {
        unshadow(gfn);
        if (!prot_is_table(gfn)) { count_pages(); return; }
    }
    struct write_arg a = { (gpa & (PAGE_SIZE - 1)) / 4, ((gpa & (PAGE_SIZE - 1)) + n - 1) / 4 };
    if (a.last > 1023) a.last = 1023;
    sp_each_of_gfn(gfn, clear_if_table, &a);
    count_pages();
}

bool sh_is_table(uint32_t gpa) { return prot_is_table(gpa >> PAGE_SHIFT); }

/* ---- the monitor region ---- */

bool sh_region_link(uint32_t base, bool link)
{
    unsigned q = REGION_Q(base), i = PAE_PD_INDEX(base);
    if (link) {
        cfg.region = base;
        if (cur >= 0 && !root_views(cur)) return false;
    }
    for (int s = 0; s < (int)MON_POOL_SLOTS; s++) {
        unsigned kind = sp_meta[s].key.kind;
        if ((kind != SP_PD && kind != SP_PHYS_PD) || sp_meta[s].key.sub != q) continue;
        pae_entry_t *e = sp_entries(s);
        for (unsigned h = 0; h < 2; h++) {
            sp_unlink(&e[i + h]);                /* a guest table linked where the region goes */
            e[i + h] = link ? cfg.region_pde[h] : 0;
        }
    }
    /* The code window below the region moves with it: the old one's tables go. */
    uint32_t wb = base - CODE_WINDOW_SIZE;
    for (int s = 0; s < (int)MON_POOL_SLOTS && !link; s++) {
        unsigned kind = sp_meta[s].key.kind;
        if ((kind != SP_PD && kind != SP_PHYS_PD) || sp_meta[s].key.sub != REGION_Q(wb)) continue;
        for (unsigned h = 0; h < 2; h++) {
            pae_entry_t *e = &sp_entries(s)[PAE_PD_INDEX(wb) + h];
            if (sp_linked(*e) >= 0 && sp_meta[sp_linked(*e)].key.kind == SP_WINDOW) sp_unlink(e);
        }
    }
    sp_tlb_stale = true;
    return true;
}

/* ---- the code window ---- */

void sh_window_cover(uint32_t lo) { window_lo = lo; }

/* The window's table for va linked into view v of the current root: w when w >= 0 (the kernel
 * view's, shared with the SMAP view), else the one linked there or a new one. -1 when the pool
 * is short. */
static int window_table(unsigned v, uint32_t va, int w)
{
    int pd = root_pd(cur, v, PAE_PDPT_INDEX(va));
    if (pd < 0) return -1;
    pae_entry_t *pde = &sp_entries(pd)[PAE_PD_INDEX(va)];
    int linked = sp_linked(*pde);
    if (linked >= 0 && (sp_meta[linked].key.kind != SP_WINDOW || (w >= 0 && linked != w))) { sp_unlink(pde); linked = -1; }
    if (linked >= 0) return linked;
    if (w < 0) {
        /* Keyed by the root: each root's window is its own (its translations are). */
        struct sp_key k = { 0xfff00000u | (uint32_t)cur, SP_WINDOW, (uint8_t)((va >> 21) & 1), role_of(VIEW_KERNEL, false, false, false) };
        if ((w = sp_new(&k)) < 0) return -1;
    }
    sp_get(w);
    sp_note_parent(w, pd, PAE_PD_INDEX(va));
    *pde = ((pae_entry_t)sp_meta[w].frame << PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
    return w;
}

bool sh_window_map(uint32_t va, uint32_t frame)
{
    int w = window_table(VIEW_KERNEL, va, -1);
    if (w < 0 || (smap && window_table(VIEW_SMAP, va, w) < 0)) return false;
    sp_entries(w)[PAE_PT_INDEX(va)] = ((pae_entry_t)frame << PAGE_SHIFT) | PTE_P | PTE_U | PTE_A;
    if (wlog_n < WLOG) { wlog[wlog_n].slot = (int16_t)w; wlog[wlog_n].idx = (uint16_t)PAE_PT_INDEX(va); }
    wlog_n++;
    count_pages();
    return true;
}

void sh_window_flush(void)
{
    if (!wlog_n) return;                  /* every window is empty already */
    if (wlog_n <= WLOG) {
        /* A logged page freed since is skipped; one freed and made a window again may lose
         * an entry made since: it is refilled on the next fetch. */
        for (unsigned i = 0; i < wlog_n; i++)
            if (sp_meta[wlog[i].slot].key.kind == SP_WINDOW) sp_entries(wlog[i].slot)[wlog[i].idx] = 0;
    } else {
        for (int s = 0; s < (int)MON_POOL_SLOTS; s++)
            if (sp_meta[s].key.kind == SP_WINDOW) memset(sp_entries(s), 0, PAGE_SIZE);
    }
    wlog_n = 0;
    sp_tlb_stale = true;
}

void sh_relocated(void)
{
    for (int r = 0; r < NROOTS; r++) if (roots[r].used && r != cur) root_drop(r);
    sp_tlb_stale = true;
    count_pages();
}

void sh_sync(void)
{
    if (!sp_tlb_stale) return;
    sp_tlb_stale = false;
    env_tlb_flush();
}

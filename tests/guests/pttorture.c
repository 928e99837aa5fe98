/* Thousands of random page-table edits with a fixed seed. Three page directories share the
 * kernel's identity map and point their four test slots (0x40000000-0x40ffffff, 16 pages
 * used in each) at six page tables or 4 MiB pages (CR4.PSE); the PTEs point at a pool of
 * frames whose every dword names the frame, and now and then at a page table itself. Each
 * step makes one edit (map, unmap, remap, toggle present or R/W, put a table, a 4 MiB page
 * or nothing in a PDE, switch CR3), does
 * what the architecture requires before relying on it (INVLPG of every address that maps
 * the edited PTE in the current directory, a CR3 reload or an INVLPG of every used page
 * for a PDE of the current directory, nothing for a not-present to present change, whose
 * translation no TLB may hold), then accesses the edited addresses and a random one and
 * compares with a walk of the guest's own tables in software: the value read (or written
 * and seen through the identity map), or the fault with its error code and CR2. */
#include "tests/guests/lib/paging.h"

#define STEPS   8000
#define NPD     3
#define NT      6
#define NF      32
#define SLOT0   0x100u
#define SLOTS   4
#define NE      16                 /* entries used in each table */
#define BASE    0x40000000u

static uint32_t *pd[NPD], *table[NT], frame[NF];
static unsigned cur;
static uint32_t seed = 0x2545f491;
static unsigned reads_ok, writes_ok, faults_ok, large_ok, bad, invlpgs, reloads, skipped_inval;
static uint32_t written = 0x100;

static uint32_t rnd(uint32_t n) { return xorshift32(&seed) % n; }
static uint32_t va_of(unsigned slot, unsigned e) { return BASE + slot * 0x400000u + e * PAGE; }

/* A frame for a PTE: mostly a tagged frame, sometimes one of the page tables. */
static uint32_t some_frame(void) { return rnd(8) ? frame[rnd(NF)] : (uint32_t)table[rnd(NT)]; }

/* The architecture's answer for a kernel access (CR0.WP set) from the current directory:
 * PG_OK with the frame, or PG_FAULT | error code. */
static uint32_t walk(uint32_t va, bool write, uint32_t *fr)
{
    uint32_t pde = pd[cur][PD_INDEX(va)];
    if (!(pde & PTE_P)) return PG_FAULT | (write ? PFEC_W : 0);
    if (pde & PTE_PS) {
        if (write && !(pde & PTE_W)) return PG_FAULT | PFEC_P | PFEC_W;
        *fr = (pde & PT32_ADDR_4M) | (va & 0x3ff000);
        return PG_OK;
    }
    uint32_t pte = ((uint32_t *)(pde & PT32_ADDR_MASK))[PT_INDEX(va)];
    if (!(pte & PTE_P)) return PG_FAULT | (write ? PFEC_W : 0);
    if (write && !(pde & pte & PTE_W)) return PG_FAULT | PFEC_P | PFEC_W;
    *fr = pte & PT32_ADDR_MASK;
    return PG_OK;
}

static void failed(const char *what, uint32_t va, uint32_t got, uint32_t want, unsigned step)
{
    if (bad++ < 8) gprintf("step %u: %s at %x: got %x want %x\n", step, what, va, got, want);
}

/* Access va (a read, and a write now and then) and compare with the software walk. */
static void verify(uint32_t va, unsigned step)
{
    uint32_t fr = 0, v = 0, k = rnd(1023), at = va + k * 4;
    uint32_t want = walk(at, false, &fr);
    uint32_t got = pg_read(at, &v);
    if (got != want) failed("read result", at, got, want, step);
    else if (got == PG_OK && v != ((uint32_t *)fr)[k]) failed("read value", at, v, ((uint32_t *)fr)[k], step);
    else if (got == PG_OK) { reads_ok++; if (pd[cur][PD_INDEX(at)] & PTE_PS) large_ok++; }
    else if (pgf.cr2 != at) failed("read cr2", at, pgf.cr2, at, step);
    else faults_ok++;
    if (rnd(2)) return;
    /* Writes go to the last dword, which no check reads and no table uses. */
    at = (va & PT32_ADDR_MASK) + 0xffc;
    written += 0x100;
    want = walk(at, true, &fr);
    got = pg_write(at, written);
    if (got != want) failed("write result", at, got, want, step);
    else if (got == PG_OK && ((uint32_t *)fr)[1023] != written) failed("write landed", at, ((uint32_t *)fr)[1023], written, step);
    else if (got == PG_OK) writes_ok++;
    else if (pgf.cr2 != at) failed("write cr2", at, pgf.cr2, at, step);
    else faults_ok++;
}

/* A random PTE edit: map, unmap, toggle present or R/W; invalidate as required; verify. */
static void edit_pte(unsigned step)
{
    unsigned t = rnd(NT), e = rnd(NE), op = rnd(8);
    uint32_t *p = &table[t][e], old = *p;
    if (op < 4) *p = some_frame() | PTE_P | (rnd(4) ? PTE_W : 0);
    else if (op == 4) *p = 0;
    else if (op == 5) *p ^= PTE_P;
    else *p ^= PTE_W;
    bool upgrade = !(old & PTE_P) && (*p & PTE_P);
    bool skip = upgrade && rnd(2);      /* not present before: nothing can be cached */
    if (skip) skipped_inval++;
    for (unsigned s = 0; s < SLOTS; s++) {
        uint32_t pde = pd[cur][SLOT0 + s];
        if (!(pde & PTE_P) || (pde & PT32_ADDR_MASK) != (uint32_t)table[t]) continue;
        if (!skip) { invlpg(va_of(s, e)); invlpgs++; }
        verify(va_of(s, e), step);
    }
}

/* A random PDE edit in a random directory: another table, a 4 MiB page, or none. */
static void edit_pde(unsigned step)
{
    unsigned p = rnd(NPD), s = rnd(SLOTS), what = rnd(8);
    uint32_t w = rnd(4) ? PTE_W : 0;
    if (what == 0) pd[p][SLOT0 + s] = 0;
    else if (what == 1) pd[p][SLOT0 + s] = (rnd(2) ? 0x800000 : 0xc00000) | PTE_PS | PTE_P | w;
    else pd[p][SLOT0 + s] = (uint32_t)table[rnd(NT)] | PTE_P | w;
    if (p != cur) return;
    if (rnd(2)) { cr3_reload(); reloads++; }
    else for (unsigned e = 0; e < NE; e++) { invlpg(va_of(s, e)); invlpgs++; }
    verify(va_of(s, rnd(NE)), step);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    uint32_t *kpd = pg_setup(PTE_P | PTE_W);
    for (unsigned f = 0; f < NF; f++) {
        frame[f] = pg_frame();
        for (unsigned k = 0; k < 1024; k++) ((uint32_t *)frame[f])[k] = frame[f] | k;
    }
    for (unsigned t = 0; t < NT; t++) {
        table[t] = (uint32_t *)pg_frame();
        for (unsigned e = 0; e < NE; e++) table[t][e] = rnd(4) ? frame[rnd(NF)] | PTE_P | PTE_W : 0;
    }
    for (unsigned p = 0; p < NPD; p++) {
        pd[p] = pg_dir();
        for (unsigned i = 0; i < 4; i++) pd[p][i] = kpd[i];
        for (unsigned s = 0; s < SLOTS; s++) pd[p][SLOT0 + s] = (uint32_t)table[rnd(NT)] | PTE_P | PTE_W;
    }
    /* The 4 MiB pages at 8 and 12 MiB: tagged like the frames where the tests look. */
    for (uint32_t a = 0x800000; a < 0x1000000; a += 0x400000)
        for (uint32_t e = 0; e < NE * 1024; e++) ((uint32_t *)a)[e] = a | e << 2 | 1;
    cur = 0;
    wr_cr4(rd_cr4() | CR4_PSE);
    pg_enable(pd[0]);

    unsigned pte_edits = 0, pde_edits = 0, switches = 0;
    for (unsigned step = 0; step < STEPS; step++) {
        unsigned op = rnd(16);
        if (op < 12) { edit_pte(step); pte_edits++; }
        else if (op < 15) { edit_pde(step); pde_edits++; }
        else { cur = rnd(NPD); wr_cr3((uint32_t)pd[cur]); switches++; }
        verify(va_of(rnd(SLOTS), rnd(NE)), step);
    }
    gprintf("pttorture: %u steps: %u PTE edits, %u PDE edits, %u CR3 switches\n", STEPS, pte_edits, pde_edits, switches);
    gprintf("pttorture: %u reads (%u through 4 MiB pages), %u writes and %u faults as the tables say; "
            "%u INVLPG, %u CR3 reloads, %u edits needing none\n",
            reads_ok, large_ok, writes_ok, faults_ok, invlpgs, reloads, skipped_inval);
    check(reads_ok > 1000 && large_ok > 100 && writes_ok > 500 && faults_ok > 500, "every kind of access was exercised");
    check_eq(bad, 0, "every access matched the guest's tables");
    return summary("pttorture");
}

/* Exact 32-bit paging as the architecture defines it: #PF error codes and CR2 for every
 * combination of present, read/write, user/supervisor and CR0.WP; A and D bits as the
 * hardware sets them; 4 MiB pages and CR4.PSE (PS ignored without it); a directory that
 * maps itself; a table aliased under two directory entries; a table page written as data;
 * global pages across CR3 writes; paging turned off and on. Only architecturally required
 * results are checked: every edit is followed by INVLPG, a CR3 write or a CR4/CR0 change
 * that flushes before the new mapping is relied on. */
#include "tests/guests/lib/paging.h"

#define OK 0xffffffffu             /* "no fault" in the expectation tables */
#define TEST   0x40000000u         /* PD[0x100]: the test pages' table T0 */
#define WINDOW 0xbfc00000u         /* PD[0x2ff]: the directory mapped onto itself */
#define SELF   0x2ffu
#define FIXED_TABLE 0xc00000u      /* a table frame on a 4 MiB boundary (see pse_ignored) */

static uint32_t *kpd, *t0;

/* A frame whose dword k holds frame | k: any read through a mapping names the frame. */
static uint32_t tagged(void)
{
    uint32_t f = pg_frame();
    for (uint32_t k = 0; k < 1024; k++) ((uint32_t *)f)[k] = f | k;
    return f;
}

/* The page directory entry for va and the PTE for va in kpd (through the identity map). */
static uint32_t *pde_of(uint32_t va) { return &kpd[PD_INDEX(va)]; }
static uint32_t *pte_of(uint32_t va) { return pg_slot(kpd, va, 0); }

/* Probe results: OK or the error code, with CR2 checked on a fault. */
static void result_is(uint32_t r, uint32_t want, uint32_t va, const char *what)
{
    check_eq(r == PG_OK ? OK : r & ~PG_FAULT, want, "%s", what);
    if (r != PG_OK) check_eq(pgf.cr2, va, "%s: cr2", what);
}

/* The same, for a row of a table: "name: what". */
static void result2(uint32_t r, uint32_t want, uint32_t va, const char *name, const char *what)
{
    check_eq(r == PG_OK ? OK : r & ~PG_FAULT, want, "%s: %s", name, what);
    if (r != PG_OK) check_eq(pgf.cr2, va, "%s: %s: cr2", name, what);
}

/* A read through va must succeed and give want. */
static void reads(uint32_t va, uint32_t want, const char *what)
{
    uint32_t v = 0;
    uint32_t r = pg_read(va, &v);
    check_eq(r == PG_OK ? v : r, want, "%s", what);
}

/* ---- ring 3 probes ---- */
static uint32_t u_out, u_res;

/* Access va from ring 3; the probe's result (and the value read in u_out). */
static uint32_t user_access(uint32_t va, bool write, uint32_t v)
{
    return u_res = pg_user(va, write, v, &u_out);
}

/* ---- 1. error codes ---- */
struct row {
    const char *name;
    uint32_t va;
    uint32_t kread, kwrite_wp, kwrite_nowp, uread, uwrite;
};

static void error_codes(void)
{
    /* T0 pages: 1 absent, 2 supervisor RW, 3 supervisor RO, 4 user RW, 5 user RO; the
     * read-only ones dirty already, so read access alone never decides writability. */
    *pte_of(TEST + 0x1000) = 0;
    pg_map(kpd, TEST + 0x2000, tagged(), PTE_P | PTE_W);
    pg_map(kpd, TEST + 0x3000, tagged(), PTE_P | PTE_A | PTE_D);     /* dirty already */
    pg_map(kpd, TEST + 0x4000, tagged(), PTE_P | PTE_W | PTE_U);
    pg_map(kpd, TEST + 0x5000, tagged(), PTE_P | PTE_U | PTE_A | PTE_D);
    /* PD[0x101] absent; PD[0x102] supervisor over a user PTE; PD[0x103] read-only over RW. */
    kpd[0x101] = 0;
    kpd[0x102] = pg_frame() | PTE_P | PTE_W;
    pg_map(kpd, 0x40800000, tagged(), PTE_P | PTE_W | PTE_U);
    kpd[0x103] = pg_frame() | PTE_P | PTE_U;
    pg_map(kpd, 0x40c00000, tagged(), PTE_P | PTE_W | PTE_U);
    cr3_reload();

    static const struct row rows[] = {
        { "absent PTE",              TEST + 0x1000, 0,  2,  2,  4,  6 },
        { "supervisor RW",           TEST + 0x2000, OK, OK, OK, 5,  7 },
        { "supervisor RO",           TEST + 0x3000, OK, 3,  OK, 5,  7 },
        { "user RW",                 TEST + 0x4000, OK, OK, OK, OK, OK },
        { "user RO",                 TEST + 0x5000, OK, 3,  OK, OK, 7 },
        { "absent PDE",              0x40400000,    0,  2,  2,  4,  6 },
        { "supervisor PDE, user PTE", 0x40800000,   OK, OK, OK, 5,  7 },
        { "RO PDE, RW PTE",          0x40c00000,    OK, 3,  OK, OK, 7 },
    };
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        uint32_t va = r->va + 0x124 + i * 8, v;
        const char *n = r->name;
        result2(pg_read(va, &v), r->kread, va, n, "kernel read");
        result2(pg_write(va + 4, 0x11110000 + i), r->kwrite_wp, va + 4, n, "kernel write, WP set");
        wr_cr0(rd_cr0() & ~CR0_WP);
        result2(pg_write(va + 4, 0x22220000 + i), r->kwrite_nowp, va + 4, n, "kernel write, WP clear");
        wr_cr0(rd_cr0() | CR0_WP);
        result2(pg_write(va + 4, 0x11110000 + i), r->kwrite_wp, va + 4, n, "kernel write, WP set again");
        result2(user_access(va, false, 0), r->uread, va, n, "user read");
        if (u_res != PG_OK) check_eq(pgf.cs, UCS, "%s: the user fault came from ring 3", n);
        result2(user_access(va + 4, true, 0x33330000 + i), r->uwrite, va + 4, n, "user write");
        if (r->uwrite == OK) check_eq(peek(va + 4), 0x33330000 + i, "%s: the kernel reads what the user wrote", n);
        else if (r->kwrite_wp == OK) check_eq(peek(va + 4), 0x11110000 + i, "%s: the kernel reads what it wrote", n);
        else if (r->kwrite_nowp == OK) check_eq(peek(va + 4), 0x22220000 + i, "%s: the kernel reads what it wrote with WP clear", n);
    }
    uint32_t v;
    pg_read(TEST + 0x1000, &v);
    check_eq(pgf.eip, (uint32_t)pg_read_at, "a kernel fault reports the faulting instruction");
    check_eq(pgf.cs, KCS, "a kernel fault comes from ring 0");
}

/* ---- 2. accessed and dirty bits ---- */
static void accessed_dirty(void)
{
    const uint32_t va = 0x41000000, ro = 0x41001000, sib = 0x41002000, acc = 0x41003000;
    uint32_t f = tagged();
    kpd[0x104] = pg_frame() | PTE_P | PTE_W | PTE_U;
    uint32_t *pde = pde_of(va);
    pg_map(kpd, va, f, PTE_P | PTE_W | PTE_U);
    pg_map(kpd, ro, tagged(), PTE_P | PTE_U);
    pg_map(kpd, sib, tagged(), PTE_P | PTE_W | PTE_U);
    pg_map(kpd, acc, tagged(), PTE_P | PTE_W | PTE_U | PTE_A);      /* accessed, not dirty */
    uint32_t *pte = pte_of(va), *pte_ro = pte_of(ro), *pte_sib = pte_of(sib), *pte_acc = pte_of(acc);
    cr3_reload();

    reads(va + 8, f | 2, "A/D: a kernel read through a fresh table");
    check_eq(*pte & (PTE_A | PTE_D), PTE_A, "A/D: the read set A, not D, in the PTE");
    check_eq(*pde & (PTE_A | PTE_D), PTE_A, "A/D: the read set A in the PDE (and not bit 6)");
    check_eq(*pte_sib & (PTE_A | PTE_D), 0, "A/D: a neighbouring PTE stays untouched");
    poke(va + 8, 0xd0d0);
    check_eq(*pte & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D: a write after the read set D");
    check_eq(*pde & PTE_D, 0, "A/D: a PDE that points to a table never gets bit 6");
    reads(va + 8, 0xd0d0, "A/D: the write landed");

    *pte &= ~(PTE_A | PTE_D);
    invlpg(va);
    poke(va + 12, 0xd1d1);
    check_eq(*pte & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D: a first write sets A and D together");

    *pte &= ~(PTE_A | PTE_D);
    *pde &= ~PTE_A;
    cr3_reload();
    check_eq(user_access(va + 8, false, 0), PG_OK, "A/D: a user read");
    check_eq(u_out, 0xd0d0, "A/D: the user read the kernel's value");
    check_eq(*pte & (PTE_A | PTE_D), PTE_A, "A/D: the user read set A only");
    check_eq(*pde & PTE_A, PTE_A, "A/D: the user read set A in the PDE");
    check_eq(user_access(va + 16, true, 0xe0e0), PG_OK, "A/D: a user write");
    check_eq(*pte & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D: the user write set D");
    check_eq(*pte_sib & (PTE_A | PTE_D), 0, "A/D: the neighbour is still untouched");
    reads(sib + 4, (*pte_sib & PT32_ADDR_MASK) | 1, "A/D: the neighbour read at last");
    check_eq(*pte_sib & (PTE_A | PTE_D), PTE_A, "A/D: now it has A");
    /* A neighbour accessed but clean (the kind an engine may map ahead): its first write sets D. */
    poke(acc + 8, 0xacc);
    check_eq(*pte_acc & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D: a write to an accessed, clean neighbour set D");
    reads(acc + 8, 0xacc, "A/D: and landed");

    reads(ro, *pte_ro & PT32_ADDR_MASK, "A/D: read a read-only page");
    result_is(pg_write(ro + 4, 1), PFEC_P | PFEC_W, ro + 4, "A/D: a write to it faults with WP set");
    check_eq(*pte_ro & (PTE_A | PTE_D), PTE_A, "A/D: the faulting write did not set D");
    wr_cr0(rd_cr0() & ~CR0_WP);
    poke(ro + 4, 0xf0f0);
    wr_cr0(rd_cr0() | CR0_WP);
    check_eq(*pte_ro & (PTE_A | PTE_D), PTE_A | PTE_D, "A/D: a kernel write with WP clear set D");
    reads(ro + 4, 0xf0f0, "A/D: and it landed");

    /* Copy on write: a dirty page made read-only keeps D; reads work, writes fault. */
    *pte &= ~PTE_W;
    invlpg(va);
    check_eq(*pte & (PTE_A | PTE_D), PTE_A | PTE_D, "COW: the read-only PTE is still dirty");
    reads(va + 16, 0xe0e0, "COW: a kernel read");
    result_is(pg_write(va + 16, 1), PFEC_P | PFEC_W, va + 16, "COW: a kernel write faults");
    result_is(user_access(va + 20, false, 0), OK, va + 20, "COW: a user read");
    result_is(user_access(va + 20, true, 1), PFEC_P | PFEC_W | PFEC_U, va + 20, "COW: a user write faults");
    *pte |= PTE_W;
    invlpg(va);
    result_is(pg_write(va + 16, 0xc0c0), OK, va + 16, "COW: writable again");
    reads(va + 16, 0xc0c0, "COW: the write landed");
}

/* ---- 3. 4 MiB pages ---- */
static void large_pages(void)
{
    const uint32_t big = 0x42000000, alias = TEST + 0x20000;
    wr_cr4(rd_cr4() | CR4_PSE);
    kpd[0x108] = 0x1000000 | PTE_PS | PTE_P | PTE_W | PTE_U;
    kpd[0x109] = 0x1400000 | PTE_PS | PTE_P | PTE_U;
    kpd[0x10a] = 0x1800000 | PTE_PS | PTE_P | PTE_W;
    pg_map(kpd, alias, 0x1005000, PTE_P | PTE_W);
    cr3_reload();

    poke(alias + 0x10, 0xb16b16);
    reads(big + 0x5010, 0xb16b16, "4M: a large page reads what a small alias wrote");
    check_eq(kpd[0x108] & (PTE_A | PTE_D), PTE_A, "4M: the read set A, not D, in the PDE");
    poke(big + 0x5014, 0xb16b17);
    check_eq(kpd[0x108] & (PTE_A | PTE_D), PTE_A | PTE_D, "4M: a write set D in the PDE");
    reads(alias + 0x14, 0xb16b17, "4M: the small alias sees the large page's write");
    poke(big + 0x3ff000, 0x3ff);
    reads(big + 0x3ff000, 0x3ff, "4M: the last page of the large page");

    uint32_t v;
    result_is(pg_read(0x42400100, &v), OK, 0x42400100, "4M RO: kernel read");
    result_is(pg_write(0x42400104, 1), PFEC_P | PFEC_W, 0x42400104, "4M RO: kernel write with WP");
    result_is(user_access(0x42400108, false, 0), OK, 0x42400108, "4M RO: user read");
    result_is(user_access(0x4240010c, true, 1), PFEC_P | PFEC_W | PFEC_U, 0x4240010c, "4M RO: user write");
    result_is(user_access(0x42800110, false, 0), PFEC_P | PFEC_U, 0x42800110, "4M supervisor: user read");
    result_is(pg_write(0x42800114, 7), OK, 0x42800114, "4M supervisor: kernel write");
    check_eq(kpd[0x10a] & (PTE_A | PTE_D), PTE_A | PTE_D, "4M supervisor: A and D in the PDE");
}

/* Without CR4.PSE the PS bit of a PDE is ignored (SDM 4.3): the entry names a page table. */
static void pse_ignored(void)
{
    const uint32_t va = 0x42c00000;
    uint32_t *t = (uint32_t *)FIXED_TABLE, f = tagged();
    memset(t, 0, PAGE);
    t[0] = f | PTE_P | PTE_W | PTE_U;
    kpd[0x10b] = FIXED_TABLE | PTE_PS | PTE_P | PTE_W | PTE_U;
    wr_cr4(rd_cr4() & ~CR4_PSE);           /* a CR4.PSE change flushes the TLB */
    reads(va + 0x20, f | 8, "PSE off: a PDE with PS set still points to a page table");
    uint32_t v;
    result_is(pg_read(va + 0x1020, &v), 0, va + 0x1020, "PSE off: its absent PTE faults");
    wr_cr4(rd_cr4() | CR4_PSE);
    reads(va, t[0], "PSE on: the same PDE maps 4 MiB from the table's own frame");
    reads(va + 4, 0, "PSE on: the next dword is the table's second entry");
    check_eq(t[0] & (PTE_A | PTE_D), PTE_A, "PSE on: the access did not touch the old PTE");
}

/* ---- 4. a directory that maps itself ---- */
static uint32_t win_pte(uint32_t va) { return WINDOW + PD_INDEX(va) * PAGE + PT_INDEX(va) * 4; }
static uint32_t win_pde(uint32_t va) { return WINDOW + SELF * PAGE + PD_INDEX(va) * 4; }

static void self_map(void)
{
    kpd[SELF] = (uint32_t)kpd | PTE_P | PTE_W;
    cr3_reload();
    reads(win_pte(TEST + 0x2000), *pte_of(TEST + 0x2000), "self-map: a PTE read through the window");
    reads(win_pde(TEST), kpd[0x100], "self-map: a PDE read through the window");

    uint32_t f1 = tagged(), f2 = tagged(), va = TEST + 0x30000;
    poke(win_pte(va), f1 | PTE_P | PTE_W);
    invlpg(va);
    reads(va + 0x40, f1 | 0x10, "self-map: a PTE written through the window maps its frame");
    poke(win_pte(va), f2 | PTE_P | PTE_W);
    invlpg(va);
    reads(va + 0x40, f2 | 0x10, "self-map: rewritten through the window, the new frame");

    /* Through the window the PDE of T0 is the leaf: a write sets D in it. */
    kpd[0x100] &= ~(PTE_A | PTE_D);
    kpd[SELF] &= ~(PTE_A | PTE_D);
    cr3_reload();
    poke(win_pte(TEST + 0x31000), f1 | PTE_P);
    check_eq(kpd[0x100] & (PTE_A | PTE_D), PTE_A | PTE_D, "self-map: the PDE acting as a PTE got A and D");
    check_eq(kpd[SELF] & PTE_A, PTE_A, "self-map: the self entry acting as a PDE got A");
    invlpg(TEST + 0x31000);
    reads(TEST + 0x31000, f1, "self-map: the new read-only mapping");

    /* A new table installed through the window's view of the directory. */
    uint32_t t5 = pg_frame(), f3 = tagged();
    ((uint32_t *)t5)[0] = f3 | PTE_P | PTE_W;
    poke(win_pde(0x43000000), t5 | PTE_P | PTE_W);
    cr3_reload();
    reads(0x43000000 + 0x80, f3 | 0x20, "self-map: a PDE written through the window");
    reads(win_pte(0x43000000), f3 | PTE_P | PTE_W | PTE_A, "self-map: the new table shows in the window");
}

/* ---- 5. one table under two directory entries ---- */
static void aliased_table(void)
{
    const uint32_t a = 0x44000000, b = 0x44400000;
    uint32_t t = pg_frame(), f5 = tagged(), f6 = tagged(), f7 = tagged();
    kpd[0x110] = t | PTE_P | PTE_W | PTE_U;
    kpd[0x111] = t | PTE_P | PTE_W;       /* the same table, supervisor-only here */
    ((uint32_t *)t)[3] = f5 | PTE_P | PTE_W | PTE_U;
    cr3_reload();
    reads(a + 0x3000, f5, "alias: first address");
    reads(b + 0x3000, f5, "alias: second address");
    poke(win_pte(a + 0x3000), f6 | PTE_P | PTE_W | PTE_U);
    reads(win_pte(b + 0x3000), f6 | PTE_P | PTE_W | PTE_U, "alias: an edit through one window shows in the other");
    invlpg(a + 0x3000);
    invlpg(b + 0x3000);
    reads(a + 0x3004, f6 | 1, "alias: edited, first address");
    reads(b + 0x3004, f6 | 1, "alias: edited, second address");
    ((uint32_t *)t)[4] = f7 | PTE_P | PTE_U;
    invlpg(a + 0x4000);
    invlpg(b + 0x4000);
    reads(a + 0x4008, f7 | 2, "alias: a new read-only entry, first address");
    reads(b + 0x4008, f7 | 2, "alias: a new read-only entry, second address");
    result_is(pg_write(a + 0x4008, 1), PFEC_P | PFEC_W, a + 0x4008, "alias: kernel write, first address");
    result_is(pg_write(b + 0x400c, 1), PFEC_P | PFEC_W, b + 0x400c, "alias: kernel write, second address");
    result_is(user_access(a + 0x3010, false, 0), OK, a + 0x3010, "alias: user read under the user PDE");
    check_eq(u_out, f6 | 4, "alias: the user read the right frame");
    result_is(user_access(b + 0x3010, false, 0), PFEC_P | PFEC_U, b + 0x3010, "alias: user read under the supervisor PDE");
}

/* ---- 6. a page table written as data ---- */
static void table_as_data(void)
{
    const uint32_t va = 0x45000000, data = TEST + 0x40000;
    uint32_t t = pg_frame(), f8, f9;
    do f8 = tagged(); while (f8 & 0xf000);      /* f8 and f9 differ only in address bits 12-15 */
    f9 = tagged();
    kpd[0x114] = t | PTE_P | PTE_W;
    pg_map(kpd, data, t, PTE_P | PTE_W);
    cr3_reload();
    poke(data + 5 * 4, f8 | PTE_P | PTE_W);
    invlpg(va + 0x5000);
    reads(va + 0x5000, f8, "table as data: a PTE written through a data mapping");
    poke(data + 5 * 4, f9 | PTE_P | PTE_W);
    invlpg(va + 0x5000);
    reads(va + 0x5004, f9 | 1, "table as data: rewritten");
    /* One byte of the entry (address bits 8-15) back to f8. */
    *(volatile uint8_t *)(data + 5 * 4 + 1) = (uint8_t)(f8 >> 8);
    invlpg(va + 0x5000);
    reads(va + 0x5008, f8 | 2, "table as data: a byte write to the entry");
    poke(data + 7 * 4, 0x5a5a5a5a);           /* P clear: data that is not an entry */
    reads(data + 7 * 4, 0x5a5a5a5a, "table as data: a data word reads back");
    uint32_t v;
    result_is(pg_read(va + 0x7010, &v), 0, va + 0x7010, "table as data: that entry is not present");
    check_eq(((uint32_t *)t)[5] & (PTE_A | PTE_D), PTE_A, "table as data: A set by the reads, D not");
}

/* ---- 7. global pages ---- */
static void global_pages(void)
{
    const uint32_t va = TEST + 0x50000;
    uint32_t f10 = tagged(), f11 = tagged();
    uint32_t *pd2 = pg_dir();
    memcpy(pd2, kpd, PAGE);
    pd2[SELF] = 0;
    wr_cr4(rd_cr4() | CR4_PGE);
    pg_map(kpd, va, f10, PTE_P | PTE_W | PTE_G);
    invlpg(va);
    reads(va, f10, "global: mapped");
    wr_cr3((uint32_t)pd2);
    reads(va + 4, f10 | 1, "global: still translates after a CR3 write");
    wr_cr3((uint32_t)kpd);
    reads(va + 8, f10 | 2, "global: and after the CR3 write back");
    *pte_of(va) = f11 | PTE_P | PTE_W | PTE_G;
    invlpg(va);
    reads(va, f11, "global: INVLPG drops a global translation");
    *pte_of(va) = f10 | PTE_P | PTE_W | PTE_G;
    wr_cr4(rd_cr4() & ~CR4_PGE);
    wr_cr4(rd_cr4() | CR4_PGE);
    reads(va, f10, "global: toggling CR4.PGE drops it too");
    *pte_of(va) = f11 | PTE_P | PTE_W;
    wr_cr3((uint32_t)pd2);
    wr_cr3((uint32_t)kpd);
    invlpg(va);
    reads(va, f11, "global: a non-global entry after the edit");
    wr_cr4(rd_cr4() & ~CR4_PGE);
}

/* ---- 8. paging off and on ---- */
static void paging_off_on(void)
{
    const uint32_t l = 0xe00000;              /* identity-mapped until now */
    uint32_t f12 = tagged(), f13 = tagged();
    poke(l, 0x1234abcd);
    *pte_of(l) = f12 | PTE_P | PTE_W;
    invlpg(l);
    reads(l, f12, "PG: the remapped page");
    uint32_t *pte = pte_of(l);
    wr_cr0(rd_cr0() & ~CR0_PG);
    reads(l, 0x1234abcd, "PG off: the physical page");
    *pte = f13 | PTE_P | PTE_W;               /* edited while paging is off */
    wr_cr0(rd_cr0() | CR0_PG);
    reads(l + 4, f13 | 1, "PG on again: the entry edited while it was off");
    check_eq(*pte & (PTE_A | PTE_D), PTE_A, "PG on again: A set by the read");
}

/* ---- 9. pages with no RAM behind them ---- */
/* The guest has 64 MiB (Bochs's machine 256); entries that point past it (at 512 MiB and at
 * 768 MiB) give memory
 * that reads the same everywhere (zeros under QEMU, all ones in umbra, as an empty PC slot)
 * and drops writes: never another VM's or the host's data. */
static void beyond_ram(void)
{
    const uint32_t va = 0x46000000;
    uint32_t t = pg_frame(), canary = tagged();
    kpd[PD_INDEX(va)] = t | PTE_P | PTE_W | PTE_U;
    for (uint32_t i = 0; i < 1024; i++)
        ((uint32_t *)t)[i] = (i < 512 ? 0x20000000 + i * PAGE : 0x30000000 + (i - 512) * PAGE) | PTE_P | PTE_W | PTE_U;
    cr3_reload();
    uint32_t first = peek(va), odd = 0, kept = 0;
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t p = va + i * PAGE;
        if (peek(p) != first || peek(p + ((i * 52) & 0xffc)) != first) odd++;
        poke(p + 4, 0x12345678 + i);
        if (peek(p + 4) == 0x12345678 + i) kept++;
    }
    check_eq(odd, 0, "no RAM: 1024 pages past the guest's RAM read the same everywhere");
    check_eq(kept, 0, "no RAM: writes there do not stick");
    check_eq(user_access(va + 0x3008, false, 0), PG_OK, "no RAM: a user read");
    check_eq(u_out, first, "no RAM: the user reads the same");
    uint32_t wrong = 0;
    for (uint32_t k = 0; k < 1024; k++) if (((uint32_t *)canary)[k] != (canary | k)) wrong++;
    check_eq(wrong, 0, "no RAM: a RAM page is untouched by those writes");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pg_catch();
    pg_frames(0x400000, FIXED_TABLE);
    kpd = pg_dir();
    pg_identity(kpd, 0x1000000, PTE_P | PTE_W | PTE_U);
    t0 = (uint32_t *)pg_frame();
    kpd[0x100] = (uint32_t)t0 | PTE_P | PTE_W | PTE_U;
    pg_enable(kpd);

    error_codes();
    accessed_dirty();
    large_pages();
    pse_ignored();
    self_map();
    aliased_table();
    table_as_data();
    global_pages();
    paging_off_on();
    beyond_ram();
    return summary("ptexact");
}

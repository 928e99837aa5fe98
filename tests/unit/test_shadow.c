/* The shadow-paging engine against a fake guest memory. A software "CPU" runs guest accesses
 * on the shadows exactly as the hardware would (through the PDPT, directory and table pages
 * in the fake pool), and calls the engine on a fault as the monitor does. After every
 * operation the invariants of paging/shadow.c are checked on every shadow entry:
 *  - no shadow entry grants more than the guest's tables grant now, in its view (so nothing
 *    is ever stale; the SMAP view holds no user page), and writable only once the guest's D
 *    bit is set;
 *  - no shadow entry lets the guest write (ro) or reach (us) a protected table;
 *  - shadow entries point only at the VM's frames, directories only at live shadow pages;
 *  - every pool page is free or a live shadow page: none lost, none owned twice. */
#include "tests/unit/unit.h"
#include "tests/unit/fake_vm.h"
#include "paging/shadow.h"
#include "paging/spage.h"
#include "paging/protect.h"
#include "paging/stlb.h"
#include "monitor/gmem.h"
#include "monitor/pool.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

#define REGION 0xffc00000u
#define RPT0 0x7fff0u
#define RPT1 0x7fff1u
#define SLOTS 200u
#define TABLE_WRITE 0x100000u        /* access(): the monitor performed a write to a table */

static struct pt_counters cnt;
static struct gmode m;
static unsigned view;                /* the guest's CPL: VIEW_KERNEL or VIEW_USER; VIEW_SMAP for CPL 0
                                        with SMAP in force (VIEW_KERNEL is then CPL 0 with AC set) */
static unsigned protect_mode, slots;
static bool code_window;             /* start() with the code window (scan-before-execute) on */

static void start(unsigned protect, unsigned prefault, unsigned roots, unsigned nslots)
{
    fake_vm_reset(nslots);
    memset(&cnt, 0, sizeof cnt);
    protect_mode = protect;
    slots = nslots;
    int pd[2] = { pool_get(), pool_get() };
    memset(pool_ptr(pd[0]), 0, 4096);
    memset(pool_ptr(pd[1]), 0, 4096);
    struct sh_config c = { protect, prefault, roots, REGION,
                           { ((uint64_t)RPT0 << 12) | PTE_P | PTE_W, ((uint64_t)RPT1 << 12) | PTE_P | PTE_W }, FAKE_ONES, code_window };
    sh_init(&c, &cnt, pd);
    stlb_flush();
    m = (struct gmode){ CR0_PE, 0, 0 };
    view = VIEW_KERNEL;
    CHECK(sh_switch(&m));
}

/* ---- the guest's tables, as the guest would see them, without side effects ---- */

struct pure { bool ok, w, u, d; uint32_t gpa; };

static struct pure pure_walk(unsigned v, uint32_t va)
{
    struct pure p = { 0 };
    if (!(m.cr0 & CR0_PG)) return (struct pure){ true, true, true, true, va };
    uint32_t pde = gpa_read32((m.cr3 & PT32_ADDR_MASK) + PT32_PD_INDEX(va) * 4);
    if (!(pde & PTE_P)) return p;
    uint32_t leaf, frame;
    bool w = pde & PTE_W, u = pde & PTE_U;
    if ((pde & PTE_PS) && (m.cr4 & CR4_PSE)) {
        leaf = pde;
        frame = (pde & PT32_ADDR_4M) | (va & 0x3ff000);
    } else {
        leaf = gpa_read32((pde & PT32_ADDR_MASK) + PT32_PT_INDEX(va) * 4);
        if (!(leaf & PTE_P)) return p;
        w = w && (leaf & PTE_W);
        u = u && (leaf & PTE_U);
        frame = leaf & PT32_ADDR_MASK;
    }
    if (v == VIEW_USER && !u) return p;
    if (v == VIEW_SMAP && u) return p;
    p.ok = true;
    p.u = u;
    p.w = v == VIEW_USER ? w : (w || !(m.cr0 & CR0_WP));
    p.d = leaf & PTE_D;
    p.gpa = frame | (va & 0xfff);
    return p;
}

/* ---- the hardware on the shadows ---- */

struct hw { bool present, w, u, region; uint32_t pfn; };

static struct hw hw_walk(unsigned v, uint32_t va)
{
    struct hw h = { 0 };
    uint32_t cr3 = sh_cr3(v);
    uint64_t *pdpt = fake_pool_page(cr3 >> 12);
    if (!pdpt) { CHECK(!"CR3 is not a pool page"); return h; }
    uint64_t pdpte = pdpt[(cr3 & 0xfff) / 8 + PAE_PDPT_INDEX(va)];
    if (!(pdpte & PTE_P)) return h;
    uint64_t *pd = fake_pool_page((uint32_t)(pdpte >> 12));
    if (!pd) { CHECK(!"a PDPT entry points outside the pool"); return h; }
    uint64_t pde = pd[PAE_PD_INDEX(va)];
    if (!(pde & PTE_P)) return h;
    uint32_t f = (uint32_t)((pde & PAE_ADDR_MASK) >> 12);
    if (f == RPT0 || f == RPT1) { h.region = true; return h; }
    uint64_t *pt = fake_pool_page(f);
    if (!pt) { CHECK(!"a directory entry points outside the pool"); return h; }
    uint64_t pte = pt[PAE_PT_INDEX(va)];
    if (!(pte & PTE_P)) return h;
    h.present = true;
    h.w = (pde & PTE_W) && (pte & PTE_W);
    h.u = (pde & PTE_U) && (pte & PTE_U);
    h.pfn = (uint32_t)((pte & PAE_ADDR_MASK) >> 12);
    return h;
}

/* What the CPU does to the shadows on an access that they allow. */
static void hw_set_ad(unsigned v, uint32_t va, bool write)
{
    uint32_t cr3 = sh_cr3(v);
    uint64_t *pdpt = fake_pool_page(cr3 >> 12);
    uint64_t *pd = fake_pool_page((uint32_t)(pdpt[(cr3 & 0xfff) / 8 + PAE_PDPT_INDEX(va)] >> 12));
    uint64_t *pde = &pd[PAE_PD_INDEX(va)];
    *pde |= PTE_A;
    uint64_t *pt = fake_pool_page((uint32_t)((*pde & PAE_ADDR_MASK) >> 12));
    pt[PAE_PT_INDEX(va)] |= PTE_A | (write ? PTE_D : 0);
}

/* The guest accesses va at its CPL: on the shadows if they allow it, else through the engine
 * as the monitor would. Returns 0, TABLE_WRITE when the monitor must apply a table write,
 * or GWALK_FAULT | the guest's #PF error code. */
static uint32_t access(uint32_t va, bool write)
{
    for (int tries = 0; tries < 3; tries++) {
        struct hw h = hw_walk(view, va);
        if (h.present && h.u && (!write || h.w)) {
            hw_set_ad(view, va, write);
            struct pure p = pure_walk(view, va);
            CHECK(p.ok && h.pfn == (p.gpa < FAKE_MEM ? FAKE_GUEST_BASE + (p.gpa >> 12) : FAKE_ONES));
            if (write) CHECK(!prot_is_table(p.gpa >> 12));
            return 0;
        }
        /* The kernel view stands for CPL 0 with EFLAGS.AC set: SMAP lets it reach user pages. */
        unsigned acc = (write ? ACC_WRITE : 0) | (view == VIEW_USER ? ACC_USER : view == VIEW_KERNEL ? ACC_AC : 0);
        struct gtrans t;
        uint32_t e = guest_walk(&m, va, acc, &t);
        if (e) return e;
        if (write && !gpa_is_ram(t.gpa)) return 0;     /* the monitor emulates it: dropped */
        if (pool_free_count() < SH_RESERVE) sh_shrink(SH_RESERVE);
        if (pool_free_count() < SH_RESERVE) { sh_trim_current(); sh_sync(); }
        CHECK(pool_free_count() >= SH_RESERVE);
        enum sh_result r = sh_fill(&m, view, va, &t, write);
        CHECK(r != SH_NO_POOL);
        sh_sync();
        if (r == SH_TABLE) return write ? TABLE_WRITE : 0;
    }
    CHECK(!"an access faults again after its fill");
    return 0;
}

/* The guest writes v at va (4-byte aligned): through the shadows, or emulated by the monitor. */
static uint32_t write32(uint32_t va, uint32_t v)
{
    uint32_t r = access(va, true);
    if (r & GWALK_FAULT) return r;
    struct pure p = pure_walk(view, va);
    gpa_write32(p.gpa, v);
    if (r == TABLE_WRITE) sh_table_write(p.gpa, 4, view == VIEW_USER);
    else CHECK(!prot_is_table(p.gpa >> 12));
    sh_sync();
    return 0;
}

/* The guest reads va; returns the value (or 0xdeadbeef on a fault). */
static uint32_t read32(uint32_t va)
{
    if (access(va, false) & GWALK_FAULT) return 0xdeadbeefu;
    return gpa_read32(pure_walk(view, va).gpa);
}

/* What pt_reserve does before a CR0, CR3 or CR4 write: the pages a root switch may take. */
static void reserve(void)
{
    if (pool_free_count() < SH_RESERVE) sh_shrink(SH_RESERVE);
    if (pool_free_count() < SH_RESERVE) { sh_trim_current(); sh_sync(); }
}

static void set_cr3(uint32_t cr3) { reserve(); m.cr3 = cr3; CHECK(sh_switch(&m)); sh_sync(); stlb_flush(); }
static void set_mode(uint32_t cr0, uint32_t cr4) { reserve(); m.cr0 = cr0; m.cr4 = cr4; CHECK(sh_reset(&m)); sh_sync(); }
/* CR4.SMAP alone changes: the same root, with its SMAP view while the bit is set. */
static void set_smap(bool on)
{
    reserve();
    m.cr4 = on ? m.cr4 | CR4_SMAP : m.cr4 & ~CR4_SMAP;
    CHECK(sh_switch(&m));
    sh_sync();
}
static bool smap_on(void) { return (m.cr4 & CR4_SMAP) && (m.cr0 & CR0_PG); }

/* ---- the invariants ---- */

static void check_leaf_entry(unsigned v, uint32_t va, uint64_t pte, uint64_t pde)
{
    uint32_t pfn = (uint32_t)((pte & PAE_ADDR_MASK) >> 12);
    bool w = (pde & PTE_W) && (pte & PTE_W), u = (pde & PTE_U) && (pte & PTE_U);
    if (pfn == FAKE_ONES) { CHECK(!w); return; }
    CHECK(pfn >= FAKE_GUEST_BASE && pfn < FAKE_GUEST_BASE + FAKE_MEM / 4096);
    struct pure p = pure_walk(v, va);
    CHECK(p.ok);
    if (!p.ok) { printf("    stale: view %u va %08x\n", v, va); return; }
    CHECK_EQ(pfn, FAKE_GUEST_BASE + (p.gpa >> 12));
    if (w) { CHECK(p.w && p.d); }
    /* A protected table: read-only (ro), or out of the guest's reach (us); a page protected
     * only for its code copy is read-only in either mode. Kernel view: never executable
     * while the code window is on. */
    uint32_t gfn = pfn - FAKE_GUEST_BASE;
    if (prot_is_table(gfn)) CHECK(protect_mode == PT_PROTECT_US && !prot_only_code(gfn) ? !u : !w);
    if (code_window && v != VIEW_USER) CHECK(pte & PTE_NX);
}

static void check_invariants(void)
{
    for (unsigned v = 0; v < VIEWS; v++) {
        uint32_t cr3 = sh_cr3(v);
        uint64_t *pdpt = fake_pool_page(cr3 >> 12) + (cr3 & 0xfff) / 8;
        /* The SMAP view: the root has it while SMAP is on (and may keep it after). */
        if (v == VIEW_SMAP && !(pdpt[3] & PTE_P)) { CHECK(!smap_on()); continue; }
        for (unsigned q = 0; q < 4; q++) {
            if (!(pdpt[q] & PTE_P)) { CHECK(q != 3); continue; }
            int pds = sp_of_frame((uint32_t)(pdpt[q] >> 12));
            CHECK(pds >= 0);
            if (pds < 0) continue;
            uint64_t *pd = fake_pool_page((uint32_t)(pdpt[q] >> 12));
            for (unsigned i = 0; i < 512; i++) {
                uint32_t va = q << 30 | i << 21;
                if (!(pd[i] & PTE_P)) { CHECK(va - REGION >= 0x400000u); continue; }
                uint32_t f = (uint32_t)((pd[i] & PAE_ADDR_MASK) >> 12);
                if (f == RPT0 || f == RPT1) { CHECK(va - REGION < 0x400000u); continue; }
                CHECK(va - REGION >= 0x400000u);
                int pts = sp_of_frame(f);
                if (pts >= 0 && sp_meta[pts].key.kind == SP_WINDOW) {
                    /* The code window: kernel views only, below the region, copies only. */
                    CHECK(v != VIEW_USER && code_window && va - (REGION - CODE_WINDOW_SIZE) < CODE_WINDOW_SIZE);
                    uint64_t *pt = fake_pool_page(f);
                    for (unsigned j = 0; j < 512; j++) {
                        int c = (pt[j] & PTE_P) ? sp_of_frame((uint32_t)((pt[j] & PAE_ADDR_MASK) >> 12)) : -1;
                        CHECK(!(pt[j] & PTE_P) || (c >= 0 && sp_meta[c].key.kind == SP_CODE && !(pt[j] & (PTE_W | PTE_NX))));
                    }
                    continue;
                }
                CHECK(pts >= 0 && sp_kind_leaf(sp_meta[pts].key.kind));
                if (pts < 0) continue;
                uint64_t *pt = fake_pool_page(f);
                for (unsigned j = 0; j < 512; j++)
                    if (pt[j] & PTE_P) check_leaf_entry(v, va | j << 12, pt[j], pd[i]);
            }
        }
    }
    /* Unreachable leaves too: nothing may grant a protected table. */
    for (int s = 0; s < (int)MON_POOL_SLOTS; s++) {
        if (!sp_kind_leaf(sp_meta[s].key.kind)) continue;
        uint64_t *e = sp_entries(s);
        for (unsigned j = 0; j < 512; j++) {
            uint32_t pfn = (uint32_t)((e[j] & PAE_ADDR_MASK) >> 12);
            if (!(e[j] & PTE_P) || pfn == FAKE_ONES || !prot_is_table(pfn - FAKE_GUEST_BASE)) continue;
            bool hide = protect_mode == PT_PROTECT_US && !prot_only_code(pfn - FAKE_GUEST_BASE);
            CHECK(!(e[j] & (hide ? PTE_U : PTE_W)));
        }
    }
    CHECK_EQ(pool_free_count() + sp_count() + 2, slots);
}

/* ---- a guest: identity-mapped low 8 MiB (kernel, writable), tables in it ---- */

#define PD0 0x10000u
#define PT0 0x11000u          /* 0-4 MiB */
#define PT1 0x12000u          /* 4-8 MiB */
#define DATA 0x400000u        /* data pages from 4 MiB */

/* A directory at pd using the two shared tables (filled by guest_tables). */
static void guest_pd(uint32_t pd, bool user)
{
    uint32_t u = user ? PTE_U : 0;
    gpa_write32(pd + 0, PT0 | PTE_P | PTE_W | u);
    gpa_write32(pd + 4, PT1 | PTE_P | PTE_W | u);
}

static void guest_tables(uint32_t pd, bool user)
{
    uint32_t u = user ? PTE_U : 0;
    guest_pd(pd, user);
    for (uint32_t i = 0; i < 1024; i++) {
        gpa_write32(PT0 + i * 4, (i << 12) | PTE_P | PTE_W | u);
        gpa_write32(PT1 + i * 4, (0x400000 + (i << 12)) | PTE_P | PTE_W | u);
    }
}

static void paging_on(unsigned protect, unsigned prefault, unsigned roots)
{
    start(protect, prefault, roots, SLOTS);
    guest_tables(PD0, false);
    m.cr3 = PD0;
    set_mode(CR0_PE | CR0_PG | CR0_WP, CR4_PSE);
}

TEST(shadow_paging_off_identity)
{
    start(PT_PROTECT_RO, 4, 8, SLOTS);
    CHECK_EQ(write32(0x5000, 7), 0);
    CHECK_EQ(read32(0x5000), 7);
    CHECK_EQ(read32(0x800000), 0);
    view = VIEW_USER;
    CHECK_EQ(read32(0x5000), 7);
    check_invariants();
    CHECK(cnt.prefaulted > 0);
}

TEST(shadow_fill_sets_accessed_then_dirty)
{
    paging_on(PT_PROTECT_RO, 0, 8);
    CHECK_EQ(read32(DATA), 0);
    uint32_t pte = gpa_read32(PT1);
    CHECK((pte & PTE_A) && !(pte & PTE_D));
    CHECK(!hw_walk(VIEW_KERNEL, DATA).w);            /* clean: the first write must fault */
    CHECK_EQ(write32(DATA, 1), 0);
    CHECK(gpa_read32(PT1) & PTE_D);
    CHECK(hw_walk(VIEW_KERNEL, DATA).w);
    check_invariants();
}

TEST(shadow_user_view_and_error_codes)
{
    paging_on(PT_PROTECT_RO, 8, 8);
    view = VIEW_USER;
    CHECK_EQ(read32(DATA), 0xdeadbeefu);                         /* supervisor page */
    CHECK_EQ(access(DATA, true), GWALK_FAULT | PFEC_P | PFEC_W | PFEC_U);
    view = VIEW_KERNEL;
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_U), 0);
    CHECK_EQ(write32(PT1 + 4, (DATA + 0x1000) | PTE_P | PTE_U), 0);   /* user, read-only */
    view = VIEW_USER;
    CHECK_EQ(access(DATA + 0x1000, false), 0);
    CHECK_EQ(access(DATA + 0x1000, true), GWALK_FAULT | PFEC_P | PFEC_W | PFEC_U);
    CHECK_EQ(access(0x9000000, false), GWALK_FAULT | PFEC_U);      /* not present */
    check_invariants();
    /* WP clear: the kernel writes a read-only page. */
    view = VIEW_KERNEL;
    CHECK_EQ(access(DATA + 0x1000, true), GWALK_FAULT | PFEC_P | PFEC_W);
    set_mode(CR0_PE | CR0_PG, CR4_PSE);
    CHECK_EQ(write32(DATA + 0x1000, 5), 0);
    check_invariants();
}

TEST(shadow_table_writes_are_tracked)
{
    for (unsigned mode = 0; mode < 2; mode++) {
        paging_on(mode, 8, 8);
        CHECK_EQ(write32(DATA, 0x11), 0);
        CHECK_EQ(write32(DATA + 0x1000, 0x22), 0);
        CHECK(prot_is_table(PT1 >> 12) && prot_is_table(PD0 >> 12));
        /* The guest swaps the two pages in its table: through its own mapping of PT1. */
        uint32_t a = gpa_read32(PT1), b = gpa_read32(PT1 + 4);
        CHECK_EQ(write32(PT1, b), 0);
        CHECK_EQ(write32(PT1 + 4, a), 0);
        check_invariants();
        CHECK_EQ(read32(DATA), 0x22);
        CHECK_EQ(read32(DATA + 0x1000), 0x11);
        /* A directory write: 8-12 MiB becomes the same table as 4-8 MiB. */
        CHECK_EQ(write32(PD0 + 8, PT1 | PTE_P | PTE_W), 0);
        CHECK_EQ(read32(0x800000), 0x22);
        CHECK_EQ(write32(PD0 + 8, 0), 0);
        CHECK_EQ(read32(0x800000), 0xdeadbeefu);
        check_invariants();
        CHECK(cnt.writes_emulated == 0);    /* the engine's caller counts those */
    }
}

TEST(shadow_rewritten_entry_is_filled_when_accessed)
{
    paging_on(PT_PROTECT_RO, 0, 8);
    CHECK_EQ(read32(DATA), 0);                               /* PT1 is shadowed now */
    /* A new entry with A (and D) set, as kernels write their own: its shadow comes with it. */
    CHECK_EQ(write32(PT1 + 5 * 4, 0x123000 | PTE_P | PTE_W | PTE_A | PTE_D), 0);
    struct hw h = hw_walk(VIEW_KERNEL, DATA + 0x5000);
    CHECK(h.present && h.w && h.pfn == FAKE_GUEST_BASE + 0x123);
    /* Without A the guest's CPU would set it on the first access: no shadow until then. */
    CHECK_EQ(write32(PT1 + 6 * 4, 0x124000 | PTE_P | PTE_W), 0);
    CHECK(!hw_walk(VIEW_KERNEL, DATA + 0x6000).present);
    CHECK_EQ(read32(DATA + 0x6000), 0);
    CHECK(gpa_read32(PT1 + 6 * 4) & PTE_A);
    check_invariants();
}

TEST(shadow_tables_in_a_hole)
{
    /* A directory entry naming a table beyond RAM: its entries read as all ones (present,
     * accessed, frame 0xfffff000 in a hole); fills and prefaults must cope, never look the
     * frame up as RAM. */
    paging_on(PT_PROTECT_RO, 8, 8);
    CHECK_EQ(write32(PD0 + 5 * 4, 0xfffff000u | PTE_P | PTE_W), 0);
    CHECK_EQ(read32(0x1400000), 0xffffffffu);              /* the page of ones */
    check_invariants();
}

TEST(shadow_self_map_and_alias)
{
    paging_on(PT_PROTECT_RO, 8, 8);
    /* The directory maps itself at 0xffc00000 - 4 MiB... use slot 1000 (0xfa000000). */
    CHECK_EQ(write32(PD0 + 1000 * 4, PD0 | PTE_P | PTE_W), 0);
    uint32_t win = 1000u << 22;                     /* the tables appear as pages here */
    CHECK_EQ(read32(win + 1 * 4096 + 4), gpa_read32(PT1 + 4));
    /* Write a PTE through the self-map window, then use it. */
    CHECK_EQ(write32(win + 1 * 4096 + 8, 0x123000 | PTE_P | PTE_W), 0);
    gpa_write32(0x123000, 0xabcd);
    CHECK_EQ(read32(DATA + 0x2000), 0xabcd);
    check_invariants();
}

TEST(shadow_large_pages)
{
    paging_on(PT_PROTECT_RO, 8, 8);
    CHECK_EQ(write32(PD0 + 3 * 4, 0x400000 | PTE_P | PTE_W | PTE_PS), 0);    /* 12-16 MiB -> 4-8 MiB */
    CHECK_EQ(read32(0xc00000 + 0x1000), 0);
    CHECK(!hw_walk(VIEW_KERNEL, 0xc01000).w);        /* D clear in the PDE */
    CHECK_EQ(write32(0xc00000 + 0x1000, 9), 0);
    CHECK(gpa_read32(PD0 + 12) & PTE_D);
    CHECK_EQ(read32(DATA + 0x1000), 9);               /* the same frame through the 4 KiB map */
    /* An alias of the same 4 MiB with D clear must not be writable. */
    CHECK_EQ(write32(PD0 + 4 * 4, 0x400000 | PTE_P | PTE_W | PTE_PS), 0);
    CHECK_EQ(read32(0x1001000), 9);
    CHECK(!hw_walk(VIEW_KERNEL, 0x1001000).w);
    check_invariants();
    /* Without PSE the PS bit is ignored: the entry names a table (the frame at 4 MiB). */
    gpa_write32(0x400000, 0x5000 | PTE_P | PTE_W);
    gpa_write32(0x5000, 0x77);
    set_mode(CR0_PE | CR0_PG | CR0_WP, 0);
    CHECK_EQ(read32(0xc00000), 0x77);
    check_invariants();
}

TEST(shadow_roots_found_again_and_bounded)
{
    for (unsigned roots = 64; roots >= 2; roots /= 4) {
        paging_on(PT_PROTECT_RO, 8, roots);
        /* 16 address spaces sharing the kernel tables, each with a private page at 32 MiB. */
        for (uint32_t i = 0; i < 16; i++) {
            uint32_t pd = 0x100000 + i * 0x2000, pt = pd + 0x1000;
            guest_pd(pd, false);
            gpa_write32(pd + 8 * 4, pt | PTE_P | PTE_W);
            gpa_write32(pt, (0x200000 + i * 0x1000) | PTE_P | PTE_W);
            gpa_write32(0x200000 + i * 0x1000, i);
        }
        for (unsigned round = 0; round < 3; round++)
            for (uint32_t i = 0; i < 16; i++) {
                set_cr3(0x100000 + i * 0x2000);
                CHECK_EQ(read32(0x2000000), i);
                check_invariants();
            }
        CHECK(sh_roots() <= roots);
        if (roots == 64) { CHECK_EQ(cnt.roots_built, 18); CHECK(cnt.roots_reused >= 32); }
        else CHECK(cnt.roots_dropped > 0);
    }
}

TEST(shadow_unshadow_after_many_writes)
{
    paging_on(PT_PROTECT_RO, 0, 8);
    CHECK_EQ(read32(DATA), 0);
    CHECK(prot_is_table(PT1 >> 12));
    for (uint32_t i = 100; i < 120; i++) CHECK_EQ(write32(PT1 + i * 4, 0), 0);
    CHECK(cnt.unshadowed > 0);
    CHECK(!prot_is_table(PT1 >> 12));
    check_invariants();
    CHECK_EQ(read32(DATA), 0);                 /* used again: shadowed again */
    CHECK(prot_is_table(PT1 >> 12));
    /* A write from guest user mode to a table drops it at once. */
    CHECK_EQ(write32(PD0 + 2 * 4, PT1 | PTE_P | PTE_W | PTE_U), 0);
    CHECK_EQ(write32(PT1 + 200 * 4, (PT1 + 0) | PTE_P | PTE_W | PTE_U), 0);
    CHECK_EQ(write32(PT1 + 201 * 4, 0x1000 | PTE_P | PTE_W | PTE_U), 0);
    view = VIEW_USER;
    unsigned before = cnt.unshadowed;
    CHECK_EQ(write32(0x800000 + 200 * 4096 + 201 * 4, 0x2000 | PTE_P | PTE_W | PTE_U), 0);
    CHECK(cnt.unshadowed > before);
    check_invariants();
}

TEST(shadow_reset_and_shrink_give_everything_back)
{
    paging_on(PT_PROTECT_US, 8, 64);
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t pd = 0x100000 + i * 0x1000;
        guest_pd(pd, true);
        set_cr3(pd);
        CHECK_EQ(write32(DATA + i * 0x10000, i), 0);
    }
    check_invariants();
    sh_shrink(SLOTS);
    CHECK_EQ(sh_roots(), 1);
    set_mode(CR0_PE, 0);                      /* paging off: everything dropped */
    check_invariants();
    CHECK(sp_count() <= 2);                   /* the region's directories of the new root */
    CHECK_EQ(prot_count(), 0);
}

/* SMAP: the SMAP view is the kernel view without the user pages; the kernel view (AC set)
 * keeps them. Fills, prefaults, rewritten entries and directory entries all keep it so. */
TEST(shadow_smap_view)
{
    paging_on(PT_PROTECT_RO, 8, 8);
    /* 4-8 MiB: a user directory entry; even pages user, odd ones supervisor, accessed. */
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_U | PTE_A), 0);
    for (uint32_t i = 0; i < 16; i++)
        CHECK_EQ(write32(PT1 + i * 4, (DATA + i * 0x1000) | PTE_P | PTE_W | PTE_A | PTE_D | (i % 2 ? 0 : PTE_U)), 0);
    uint32_t cr3 = sh_cr3(VIEW_SMAP);
    CHECK(!(fake_pool_page(cr3 >> 12)[(cr3 & 0xfff) / 8 + 3] & PTE_P));   /* no SMAP view yet */
    set_smap(true);
    CHECK(fake_pool_page(cr3 >> 12)[(cr3 & 0xfff) / 8 + 3] & PTE_P);
    check_invariants();
    view = VIEW_SMAP;
    CHECK_EQ(access(DATA, false), GWALK_FAULT | PFEC_P);               /* AC clear: #PF(1) */
    CHECK_EQ(access(DATA, true), GWALK_FAULT | PFEC_P | PFEC_W);       /* #PF(3) */
    CHECK_EQ(write32(DATA + 0x1000, 0x51), 0);                         /* a supervisor page */
    for (uint32_t i = 0; i < 10; i++) CHECK_EQ(hw_walk(VIEW_SMAP, DATA + i * 0x1000).present, i % 2 == 1);
    view = VIEW_KERNEL;                                                /* AC set */
    CHECK_EQ(write32(DATA, 0x50), 0);
    CHECK(hw_walk(VIEW_KERNEL, DATA).present && !hw_walk(VIEW_SMAP, DATA).present);
    check_invariants();
    /* The kernel makes a supervisor page a user page (A set): the SMAP view lets it go. */
    CHECK_EQ(write32(PT1 + 3 * 4, (DATA + 0x3000) | PTE_P | PTE_W | PTE_U | PTE_A | PTE_D), 0);
    CHECK(!hw_walk(VIEW_SMAP, DATA + 0x3000).present);
    check_invariants();
    /* A supervisor directory entry: every page under it is a supervisor page. */
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_A), 0);
    view = VIEW_SMAP;
    CHECK_EQ(read32(DATA), 0x50);
    CHECK(hw_walk(VIEW_SMAP, DATA + 0x2000).present);                  /* prefaulted */
    check_invariants();
    /* User again: out of the SMAP view at once. */
    view = VIEW_KERNEL;
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_U | PTE_A), 0);
    CHECK(!hw_walk(VIEW_SMAP, DATA).present);
    view = VIEW_SMAP;
    CHECK_EQ(access(DATA, false), GWALK_FAULT | PFEC_P);
    CHECK_EQ(read32(DATA + 0x1000), 0x51);
    /* 4 MiB pages: a user one is refused, a supervisor one is not. */
    CHECK_EQ(write32(PD0 + 3 * 4, 0x400000 | PTE_P | PTE_W | PTE_U | PTE_PS), 0);
    CHECK_EQ(write32(PD0 + 4 * 4, 0x400000 | PTE_P | PTE_W | PTE_PS), 0);
    CHECK_EQ(access(0xc01000, false), GWALK_FAULT | PFEC_P);
    CHECK_EQ(read32(0x1001000), 0x51);
    check_invariants();
    /* Another address space gets its SMAP view when it is switched to; SMAP off and on again
     * keeps the views (no flush). */
    guest_pd(0x30000, true);
    set_cr3(0x30000);
    check_invariants();
    CHECK_EQ(access(DATA, false), GWALK_FAULT | PFEC_P);
    set_cr3(PD0);
    uint32_t built = cnt.roots_built;
    set_smap(false);
    view = VIEW_KERNEL;
    check_invariants();
    set_smap(true);
    CHECK_EQ(cnt.roots_built, built);
    CHECK(!hw_walk(VIEW_SMAP, DATA).present && hw_walk(VIEW_SMAP, DATA + 0x1000).present);
    check_invariants();
    /* A mode change drops everything; the new root has its three views. */
    set_mode(CR0_PE | CR0_PG, CR4_PSE | CR4_SMAP);
    view = VIEW_SMAP;
    CHECK_EQ(access(DATA, true), GWALK_FAULT | PFEC_P | PFEC_W);     /* WP clear: SMAP still refuses */
    view = VIEW_KERNEL;
    CHECK_EQ(write32(DATA, 0x52), 0);
    check_invariants();
    /* Paging off: no user pages, no SMAP view needed. */
    set_mode(CR0_PE, CR4_SMAP);
    check_invariants();
}

/* Random edits and accesses with a fixed seed; invariants after every step. */
static uint32_t rng = 12345;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

/* smap: CR4.SMAP comes and goes too, and the kernel also runs with it in force (VIEW_SMAP). */
static void torture(unsigned protect, unsigned prefault, unsigned roots, unsigned nslots, bool smap)
{
    int failed_before = unit_failed_checks;
    start(protect, prefault, roots, nslots);
    const uint32_t pds[3] = { 0x10000, 0x20000, 0x30000 };
    guest_tables(pds[0], true);
    guest_pd(pds[1], true);
    guest_pd(pds[2], true);
    /* With SMAP the SMAP view needs supervisor pages among the user ones: every other one. */
    for (uint32_t i = 0; smap && i < 2048; i += 2) gpa_write32(0x11000 + i * 4, gpa_read32(0x11000 + i * 4) & ~PTE_U);
    /* Four spare tables at 0x40000.. mapping frames from 8 MiB, user (with SMAP: some), some
     * read-only. */
    for (uint32_t t = 0; t < 4; t++)
        for (uint32_t i = 0; i < 1024; i++)
            gpa_write32(0x40000 + t * 0x1000 + i * 4, ((0x800 + (next() % 2048)) << 12) | PTE_P |
                        (smap ? next() & PTE_U : PTE_U) | (next() & PTE_W));
    m.cr3 = pds[0];
    set_mode(CR0_PE | CR0_PG | CR0_WP, CR4_PSE);
    for (unsigned step = 0; step < 3000; step++) {
        uint32_t r = next() % 100;
        view = VIEW_KERNEL;
        if (r < 40) {
            /* an access anywhere in 0-32 MiB, in any view */
            view = smap ? next() % 3 : next() & 1;
            if (view == VIEW_SMAP && !smap_on()) view = VIEW_KERNEL;
            uint32_t va = (next() % (32u << 20)) & ~3u;
            uint32_t res = access(va, next() & 1);
            if (res == TABLE_WRITE) sh_table_write(pure_walk(view, va).gpa, 4, view == VIEW_USER);
        } else if (r < 70) {
            /* the kernel edits a PTE of one of its tables (through its identity map) */
            uint32_t t = (next() & 1) ? 0x11000 + (next() % 2) * 0x1000 : 0x40000 + (next() % 4) * 0x1000;
            /* frames up to 18 MiB: one edit in nine names a hole beyond the 16 MiB of RAM */
            uint32_t v = ((next() % 4608) << 12) | (next() & (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D));
            write32(t + (next() % 1024) * 4, v);
        } else if (r < 85) {
            /* a PDE: a spare table, a 4 MiB page, or nothing */
            uint32_t pd = pds[next() % 3], i = 2 + next() % 6, v;
            uint32_t kind = next() % 3;
            if (kind == 0 && (next() % 8) == 0) v = 0xfffff000u | PTE_P | PTE_W | PTE_U;   /* a table in a hole */
            else if (kind == 0) v = (0x40000 + (next() % 4) * 0x1000) | PTE_P | PTE_W | (smap ? next() & PTE_U : PTE_U);
            else if (kind == 1) v = ((next() % 4) << 22) | PTE_P | PTE_PS | (next() & (PTE_W | PTE_U | PTE_D));
            else v = 0;
            write32(pd + i * 4, v);
        } else if (r < 95) {
            if (smap && (next() % 4) == 0) set_smap(!(m.cr4 & CR4_SMAP));
            else set_cr3(pds[next() % 3]);
        } else if (r < 98) {
            sh_shrink(pool_free_count() + 8);
            sh_sync();
        } else {
            set_mode(CR0_PE | CR0_PG | ((next() & 1) ? CR0_WP : 0), ((next() & 1) ? CR4_PSE : 0) | (m.cr4 & CR4_SMAP));
        }
        check_invariants();
        if (unit_failed_checks > failed_before + 20) { printf("    torture: stopped at step %u\n", step); return; }
    }
}

TEST(shadow_working_set_larger_than_the_pool)
{
    /* One root, 12 pool pages (two hold the PDPTs, two the region's directories): touching
     * 16 MiB (8 shadow tables per view) must trim the current root's tables and go on. */
    start(PT_PROTECT_RO, 0, 1, 12);
    guest_tables(PD0, false);
    for (uint32_t i = 2; i < 4; i++) gpa_write32(PD0 + i * 4, (i << 22) | PTE_P | PTE_W | PTE_PS);
    m.cr3 = PD0;
    set_mode(CR0_PE | CR0_PG | CR0_WP, CR4_PSE);
    for (uint32_t round = 0; round < 2; round++)
        for (uint32_t va = 0; va < (16u << 20); va += 0x100000) {
            CHECK_EQ(write32(va + 0x80, va ^ round), 0);
            CHECK_EQ(read32(va + 0x80), va ^ round);
            check_invariants();
        }
    CHECK(cnt.shrinks > 0);
}

TEST(shadow_torture_ro) { torture(PT_PROTECT_RO, 8, 64, SLOTS, false); }
TEST(shadow_torture_us) { torture(PT_PROTECT_US, 0, 64, SLOTS, false); }
TEST(shadow_torture_small_pool_few_roots) { torture(PT_PROTECT_RO, 3, 2, 24, false); }
TEST(shadow_torture_smap_ro) { torture(PT_PROTECT_RO, 8, 64, SLOTS, true); }
TEST(shadow_torture_smap_us) { torture(PT_PROTECT_US, 3, 64, SLOTS, true); }
TEST(shadow_torture_smap_small_pool) { torture(PT_PROTECT_RO, 3, 2, 24, true); }

/* Scan-before-execute's part of the engine: NX in the kernel view, code copies protect their
 * page (read-only, but never hidden from user code in us mode), the window maps copies and is
 * emptied when a page with a copy is mapped elsewhere. */
static void code_window_case(unsigned protect)
{
    code_window = true;
    paging_on(protect, 0, 8);
    CHECK_EQ(write32(PT1 + 4, (DATA + 0x1000) | PTE_P | PTE_W | PTE_U), 0);   /* a user page */
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_U), 0);
    CHECK_EQ(write32(DATA + 0x1000, 5), 0);
    uint64_t *k = sh_leaf(VIEW_KERNEL, DATA + 0x1000);
    CHECK(k && (*k & PTE_NX) && (*k & PTE_W));
    view = VIEW_USER;
    CHECK_EQ(read32(DATA + 0x1000), 5);
    uint64_t *u = sh_leaf(VIEW_USER, DATA + 0x1000);
    CHECK(u && !(*u & PTE_NX));
    view = VIEW_KERNEL;
    /* A copy of that page: it is protected, but code-only. */
    uint32_t gfn = (DATA + 0x1000) >> 12;
    int c = sp_new(&(struct sp_key){ gfn, SP_CODE, 0, 0 });
    CHECK(c >= 0);
    sp_get(c);
    sh_sync();
    CHECK(prot_is_table(gfn) && prot_only_code(gfn));
    CHECK(!(*k & PTE_W));                                            /* writes trap now */
    view = VIEW_USER;
    CHECK_EQ(read32(DATA + 0x1000), 5);                              /* user code may still read it */
    u = sh_leaf(VIEW_USER, DATA + 0x1000);
    CHECK(u && (*u & PTE_U) && !(*u & PTE_W));
    view = VIEW_KERNEL;
    unsigned writes = fake_code_writes;
    CHECK_EQ(write32(DATA + 0x1000, 6), TABLE_WRITE & 0);            /* applied by the monitor */
    CHECK_EQ(fake_code_writes, writes + 1);
    CHECK_EQ(read32(DATA + 0x1000), 6);
    /* The window maps the copy; moving the page elsewhere empties it. */
    uint32_t w = REGION - CODE_WINDOW_SIZE + 0x3000;
    CHECK(sh_window_map(w, sp_meta[c].frame));
    check_invariants();
    fake_code_src = FAKE_GUEST_BASE + gfn;
    CHECK_EQ(write32(PT1 + 4, (DATA + 0x2000) | PTE_P | PTE_W | PTE_U | PTE_A), 0);
    fake_code_src = 0;
    int ws = -1;
    for (int s = 0; s < (int)MON_POOL_SLOTS; s++) if (sp_meta[s].key.kind == SP_WINDOW) ws = s;
    CHECK(ws >= 0 && sp_entries(ws)[PAE_PT_INDEX(w)] == 0);
    check_invariants();
    sp_put(c);
    CHECK(!prot_is_table(gfn));
    check_invariants();
    code_window = false;
}

TEST(shadow_code_window_ro) { code_window_case(PT_PROTECT_RO); }

TEST(shadow_code_window_shared_by_the_smap_view)
{
    code_window = true;
    paging_on(PT_PROTECT_RO, 0, 8);
    set_smap(true);
    uint32_t gfn = DATA >> 12;
    int c = sp_new(&(struct sp_key){ gfn, SP_CODE, 0, 0 });
    CHECK(c >= 0);
    sp_get(c);
    sh_sync();
    uint32_t w = REGION - CODE_WINDOW_SIZE + 0x5000;
    CHECK(sh_window_map(w, sp_meta[c].frame));
    /* Both kernel views fetch the copy, through one window table. */
    struct hw k = hw_walk(VIEW_KERNEL, w), sm = hw_walk(VIEW_SMAP, w);
    CHECK(k.present && sm.present && k.pfn == sp_meta[c].frame && sm.pfn == k.pfn);
    CHECK(!hw_walk(VIEW_USER, w).present);
    unsigned windows = 0;
    for (int s = 0; s < (int)MON_POOL_SLOTS; s++) windows += sp_meta[s].key.kind == SP_WINDOW;
    CHECK_EQ(windows, 1);
    check_invariants();
    sh_window_flush();
    CHECK(!hw_walk(VIEW_KERNEL, w).present && !hw_walk(VIEW_SMAP, w).present);
    /* A new address space: its window is its own, in both of its kernel views. */
    guest_pd(0x30000, false);
    set_cr3(0x30000);
    CHECK(sh_window_map(w, sp_meta[c].frame));
    CHECK(hw_walk(VIEW_SMAP, w).present);
    check_invariants();
    sh_shrink(SLOTS);
    sh_window_flush();                  /* as code.c does before it drops a copy */
    sp_put(c);
    check_invariants();
    code_window = false;
}
TEST(shadow_code_window_us) { code_window_case(PT_PROTECT_US); }

TEST(stlb_caches_only_what_it_was_allowed)
{
    paging_on(PT_PROTECT_RO, 0, 8);
    struct gtrans t;
    uint32_t h0, m0, h1, m1;
    stlb_counts(&h0, &m0);
    CHECK_EQ(stlb_walk(&m, DATA + 8, 0, &t), 0);
    CHECK_EQ(t.gpa, DATA + 8);
    CHECK_EQ(stlb_walk(&m, DATA + 12, 0, &t), 0);
    stlb_counts(&h1, &m1);
    CHECK_EQ(h1 - h0, 1);
    CHECK(!(gpa_read32(PT1) & PTE_D));
    CHECK_EQ(stlb_walk(&m, DATA, ACC_WRITE, &t), 0);   /* a write walks again and sets D */
    CHECK(gpa_read32(PT1) & PTE_D);
    CHECK_EQ(stlb_walk(&m, DATA, ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U);
    stlb_flush();
    stlb_counts(&h0, &m0);
    CHECK_EQ(stlb_walk(&m, DATA, 0, &t), 0);
    stlb_counts(&h1, &m1);
    CHECK_EQ(m1 - m0, 1);
}

TEST(stlb_smap_needs_ac_even_when_cached)
{
    paging_on(PT_PROTECT_RO, 0, 8);
    CHECK_EQ(write32(PD0 + 4, PT1 | PTE_P | PTE_W | PTE_U), 0);
    CHECK_EQ(write32(PT1, DATA | PTE_P | PTE_W | PTE_U), 0);
    m.cr4 |= CR4_SMAP;
    stlb_flush();
    struct gtrans t;
    CHECK_EQ(stlb_walk(&m, DATA, ACC_AC | ACC_WRITE, &t), 0);        /* cached, user, dirty */
    CHECK_EQ(stlb_walk(&m, DATA + 4, ACC_AC, &t), 0);
    CHECK_EQ(stlb_walk(&m, DATA + 4, 0, &t), GWALK_FAULT | PFEC_P);
    CHECK_EQ(stlb_walk(&m, DATA + 4, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    CHECK_EQ(stlb_walk(&m, DATA + 4, ACC_USER | ACC_WRITE, &t), 0);
    CHECK_EQ(stlb_walk(&m, DATA + 4, ACC_FETCH, &t), 0);
    m.cr4 &= ~CR4_SMAP;
    CHECK_EQ(stlb_walk(&m, DATA + 4, ACC_WRITE, &t), 0);
}

/* The guest page-table walker against a fake guest memory: translations, A/D bits, and the
 * exact #PF error codes for every combination of present, write, user, WP and PSE. */
#include "tests/unit/unit.h"
#include "paging/gwalk.h"
#include "monitor/gmem.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

#include "tests/unit/fake_vm.h"
#define mem fake_mem

#define PD 0x1000u
#define PT 0x2000u
static struct gmode m;

/* A directory at PD with one table at PT for 0x00400000-0x007fffff. */
static void setup(uint32_t pde_flags)
{
    memset(mem, 0, sizeof mem);
    m = (struct gmode){ CR0_PE | CR0_PG | CR0_WP, PD, 0 };
    mem[PD / 4 + 1] = PT | pde_flags;
}

static void map(uint32_t va, uint32_t pa, uint32_t flags) { mem[PT / 4 + PT32_PT_INDEX(va)] = pa | flags; }

TEST(gwalk_paging_off_is_identity)
{
    struct gtrans t;
    m = (struct gmode){ CR0_PE, 0, 0 };
    CHECK_EQ(guest_walk(&m, 0x12345678, ACC_WRITE | ACC_USER, &t), 0);
    CHECK_EQ(t.gpa, 0x12345678);
    CHECK(t.write_ok && t.user_ok);
}

TEST(gwalk_translate_and_accessed_dirty)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P | PTE_W | PTE_U);
    CHECK_EQ(guest_walk(&m, 0x400123, 0, &t), 0);
    CHECK_EQ(t.gpa, 0x300123);
    CHECK(mem[PD / 4 + 1] & PTE_A);
    CHECK(mem[PT / 4] & PTE_A);
    CHECK(!(mem[PT / 4] & PTE_D));          /* a read does not dirty */
    CHECK(!t.dirty);
    CHECK_EQ(guest_walk(&m, 0x400123, ACC_WRITE, &t), 0);
    CHECK(mem[PT / 4] & PTE_D);
    CHECK(t.dirty);
    CHECK_EQ(t.pte_gpa, PT);
    CHECK_EQ(t.pde_gpa, PD + 4);
}

TEST(gwalk_not_present_error_codes)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    /* Not-present table entry: P clear; W and U from the access. */
    CHECK_EQ(guest_walk(&m, 0x401000, 0, &t), GWALK_FAULT);   /* error code 0, still a fault */
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_WRITE | ACC_USER, &t), GWALK_FAULT | PFEC_W | PFEC_U);
    /* Not-present directory entry. */
    CHECK_EQ(guest_walk(&m, 0x800000, ACC_USER, &t), GWALK_FAULT | PFEC_U);
    CHECK_EQ(guest_walk(&m, 0x800000, ACC_WRITE, &t), GWALK_FAULT | PFEC_W);
    CHECK_EQ(mem[PD / 4 + 2], 0);          /* nothing set in a not-present entry */
    CHECK(mem[PD / 4 + 1] & PTE_A);        /* the directory entry was used: its A is set */
}

TEST(gwalk_directory_accessed_on_failed_walks)
{
    /* A walk that gets past the directory entry sets its A even when it then fails, at a
     * not-present table entry or on the rights; the table entry's A only on success. */
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    CHECK_EQ(guest_walk(&m, 0x401000, 0, &t), GWALK_FAULT);
    CHECK_EQ(mem[PD / 4 + 1], PT | PTE_P | PTE_W | PTE_U | PTE_A);
    setup(PTE_P | PTE_W);
    map(0x400000, 0x300000, PTE_P | PTE_U);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U);
    CHECK(mem[PD / 4 + 1] & PTE_A);
    CHECK_EQ(mem[PT / 4], 0x300000 | PTE_P | PTE_U);
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    CHECK(mem[PD / 4 + 1] & PTE_A);
    CHECK(!(mem[PT / 4] & (PTE_A | PTE_D)));
}

TEST(gwalk_protection_error_codes)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P);                     /* supervisor, read-only */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);    /* WP=1 */
    CHECK_EQ(guest_walk(&m, 0x400000, 0, &t), 0);
    m.cr0 &= ~CR0_WP;                                   /* WP=0: the kernel writes anyway */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE, &t), 0);
    CHECK(!t.write_ok);
    /* A user page under a supervisor directory entry is not user-accessible. */
    setup(PTE_P | PTE_W);
    map(0x400000, 0x300000, PTE_P | PTE_W | PTE_U);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U);
    /* A writable page under a read-only directory entry is read-only for the user. */
    setup(PTE_P | PTE_U);
    map(0x400000, 0x300000, PTE_P | PTE_W | PTE_U);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_USER | ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W | PFEC_U);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_USER, &t), 0);
}

TEST(gwalk_fetches_and_smep)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P | PTE_U);             /* a user page */
    /* Without SMEP a fetch is a read: the kernel may run user code, and faults carry no I/D. */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_FETCH | ACC_USER, &t), GWALK_FAULT | PFEC_U);
    m.cr4 |= CR4_SMEP;
    /* Under SMEP the kernel may not fetch from it, every fetch fault says I/D, reads still go. */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH, &t), GWALK_FAULT | PFEC_P | PFEC_I);
    CHECK_EQ(guest_walk(&m, 0x400000, 0, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH | ACC_USER, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_FETCH | ACC_USER, &t), GWALK_FAULT | PFEC_U | PFEC_I);
    CHECK_EQ(guest_walk(&m, 0x401000, 0, &t), GWALK_FAULT);
    /* A supervisor page under SMEP: the kernel runs it. */
    map(0x402000, 0x301000, PTE_P);
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_FETCH, &t), 0);
}

TEST(gwalk_large_pages_need_pse)
{
    struct gtrans t;
    memset(mem, 0, sizeof mem);
    m = (struct gmode){ CR0_PE | CR0_PG, PD, CR4_PSE };
    mem[PD / 4 + 1] = 0x400000 | PTE_P | PTE_W | PTE_PS | PTE_G;
    CHECK_EQ(guest_walk(&m, 0x5abcde, ACC_WRITE, &t), 0);
    CHECK_EQ(t.gpa, 0x5abcde);
    CHECK(t.large);
    CHECK(!t.global);                                   /* G counts only with CR4.PGE */
    CHECK(mem[PD / 4 + 1] & PTE_D);
    m.cr4 |= CR4_PGE;
    CHECK_EQ(guest_walk(&m, 0x5abcde, 0, &t), 0);
    CHECK(t.global);
    /* Without PSE the PS bit is ignored: the entry points at a page table. */
    m.cr4 = 0;
    mem[0x400000 / 4 + PT32_PT_INDEX(0x5abcde)] = 0x200000 | PTE_P;
    CHECK_EQ(guest_walk(&m, 0x5abcde, 0, &t), 0);
    CHECK_EQ(t.gpa, 0x200cde);
    CHECK(!t.large);
}

TEST(gwalk_large_page_reserved_bits)
{
    /* Bits 21:(M-19) of a 4 MiB entry are reserved: a fault with RSVD and P, A left alone;
     * bits below them are physical-address bits 32 and up (PSE-36), not reserved. */
    struct gtrans t;
    uint32_t saved = gwalk_rsvd_4m;
    CHECK_EQ(gwalk_rsvd_4m_for(40), 1u << 21);
    CHECK_EQ(gwalk_rsvd_4m_for(36), 0x3e0000u);
    CHECK_EQ(gwalk_rsvd_4m_for(32), 0x3fe000u);
    CHECK_EQ(gwalk_rsvd_4m_for(52), 1u << 21);
    memset(mem, 0, sizeof mem);
    m = (struct gmode){ CR0_PE | CR0_PG, PD, CR4_PSE };
    gwalk_rsvd_4m = gwalk_rsvd_4m_for(40);
    mem[PD / 4 + 1] = 0x400000 | PTE_P | PTE_W | PTE_U | PTE_PS | (1u << 21);
    CHECK_EQ(guest_walk(&m, 0x5abcde, 0, &t), GWALK_FAULT | PFEC_RSVD | PFEC_P);
    CHECK_EQ(guest_walk(&m, 0x5abcde, ACC_WRITE | ACC_USER, &t),
             GWALK_FAULT | PFEC_RSVD | PFEC_P | PFEC_W | PFEC_U);
    CHECK(!(mem[PD / 4 + 1] & PTE_A));
    /* Without PSE-36 (M = 32) bit 13 is reserved too. */
    mem[PD / 4 + 1] = 0x400000 | PTE_P | PTE_PS | (1u << 13);
    gwalk_rsvd_4m = gwalk_rsvd_4m_for(32);
    CHECK_EQ(guest_walk(&m, 0x5abcde, 0, &t), GWALK_FAULT | PFEC_RSVD | PFEC_P);
    /* Without CR4.PSE the entry names a page table and nothing is reserved. */
    m.cr4 = 0;
    CHECK_EQ(guest_walk(&m, 0x5abcde, 0, &t), GWALK_FAULT);
    gwalk_rsvd_4m = saved;
}

TEST(gwalk_directory_maps_itself)
{
    /* A page directory that maps itself: its entries read back as page tables. */
    struct gtrans t;
    setup(PTE_P | PTE_W);
    mem[PD / 4 + 1023] = PD | PTE_P | PTE_W;
    CHECK_EQ(guest_walk(&m, 0xfffff000 + 1 * 4, 0, &t), 0);
    CHECK_EQ(t.gpa, PD + 4);
    CHECK_EQ(guest_walk(&m, 0xffc00000 + 1 * 4096, 0, &t), 0);   /* the table at PDE 1 */
    CHECK_EQ(t.gpa, PT);
}

TEST(gwalk_smep_and_fetch_error_codes)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P | PTE_U);          /* a user page */
    map(0x401000, 0x301000, PTE_P);                  /* a supervisor page */
    /* Without SMEP: the supervisor fetches from a user page; no I/D in 32-bit paging. */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_FETCH | ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U);
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_FETCH, &t), GWALK_FAULT);
    /* With SMEP: that fetch is a protection fault, and every fetch fault says I/D. */
    m.cr4 |= CR4_SMEP;
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH, &t), GWALK_FAULT | PFEC_P | PFEC_I);
    CHECK_EQ(guest_walk(&m, 0x400000, 0, &t), 0);                   /* a read is fine */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH | ACC_USER, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_FETCH | ACC_USER, &t), GWALK_FAULT | PFEC_P | PFEC_U | PFEC_I);
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_FETCH, &t), GWALK_FAULT | PFEC_I);
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_FETCH, &t), 0);
}

TEST(gwalk_smap_explicit_implicit_and_ac)
{
    struct gtrans t;
    setup(PTE_P | PTE_W | PTE_U);
    map(0x400000, 0x300000, PTE_P | PTE_W | PTE_U);  /* a user page */
    map(0x401000, 0x301000, PTE_P | PTE_W);          /* a supervisor page */
    map(0x402000, 0x302000, PTE_P | PTE_U);          /* a read-only user page */
    /* Without SMAP the supervisor reads and writes user pages, AC or not. */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE | ACC_AC, &t), 0);
    m.cr4 |= CR4_SMAP;
    /* With it: a data access with AC clear, or an implicit one, is a protection fault (U clear),
     * and it sets no A or D bit. */
    mem[PT / 4 + 0] &= ~(uint32_t)(PTE_A | PTE_D);
    CHECK_EQ(guest_walk(&m, 0x400000, 0, &t), GWALK_FAULT | PFEC_P);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    CHECK(!(mem[PT / 4 + 0] & (PTE_A | PTE_D)));
    /* An explicit access with AC set goes through, and sets A and D as ever. */
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_AC, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE | ACC_AC, &t), 0);
    CHECK((mem[PT / 4 + 0] & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    /* Supervisor pages, user accesses and fetches are not SMAP's. */
    CHECK_EQ(guest_walk(&m, 0x401000, ACC_WRITE, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_WRITE | ACC_USER, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x400000, ACC_FETCH, &t), 0);
    /* With AC, CR0.WP still decides a write to a read-only user page; SMAP refuses it first. */
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_WRITE | ACC_AC, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    m.cr0 &= ~CR0_WP;
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_WRITE | ACC_AC, &t), 0);
    CHECK_EQ(guest_walk(&m, 0x402000, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    /* A user directory entry over supervisor pages: those stay reachable. A supervisor one
     * over user table entries: the pages are supervisor pages. */
    mem[PD / 4 + 1] &= ~(uint32_t)PTE_U;
    CHECK_EQ(guest_walk(&m, 0x400000, 0, &t), 0);
    /* A 4 MiB user page, and paging off (no user pages then). */
    m.cr4 |= CR4_PSE;
    mem[PD / 4 + 2] = 0x800000 | PTE_P | PTE_W | PTE_U | PTE_PS;
    CHECK_EQ(guest_walk(&m, 0x812345, ACC_WRITE, &t), GWALK_FAULT | PFEC_P | PFEC_W);
    CHECK_EQ(guest_walk(&m, 0x812345, ACC_WRITE | ACC_AC, &t), 0);
    m.cr0 &= ~CR0_PG;
    CHECK_EQ(guest_walk(&m, 0x812345, ACC_WRITE, &t), 0);
}

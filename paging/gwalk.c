/* The guest's own MMU in software: 32-bit paging with PSE, WP, SMEP, SMAP, and exact #PF error
 * codes (reserved bits of 4 MiB entries included). */
#include "paging/gwalk.h"
#include "monitor/gmem.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

uint32_t gwalk_rsvd_4m = 1u << 21;

uint32_t gwalk_rsvd_4m_for(unsigned m)
{
    if (m > 40) m = 40;
    if (m < 32) m = 32;
    return ((1u << 22) - 1) & ~((1u << (m - 19)) - 1);
}

/* The #PF error code for an access of kind acc; present: the fault is a protection one. In
 * 32-bit paging a fetch says so (I/D) only under CR4.SMEP (SDM 4.7). */
static uint32_t pf_error(const struct gmode *m, unsigned acc, bool present)
{
    return GWALK_FAULT | (present ? PFEC_P : 0) | ((acc & ACC_WRITE) ? PFEC_W : 0) | ((acc & ACC_USER) ? PFEC_U : 0) |
           ((acc & ACC_FETCH) && (m->cr4 & CR4_SMEP) ? PFEC_I : 0);
}

/* May an access of kind acc go through entries with these combined rights? (SDM 4.6) */
static bool allowed(const struct gmode *m, unsigned acc, bool w, bool u)
{
    if (acc & ACC_USER) {
        if (!u) return false;
        return !(acc & ACC_WRITE) || w;
    }
    /* Supervisor: no fetches from user pages under SMEP; under SMAP no data reads or writes
     * of user pages either, but for an explicit access with EFLAGS.AC set (whatever CR0.WP
     * says); reads otherwise always; writes need R/W only when CR0.WP is set. */
    if ((m->cr4 & (CR4_SMEP | CR4_SMAP)) && u &&
        ((acc & ACC_FETCH) ? (m->cr4 & CR4_SMEP) : (m->cr4 & CR4_SMAP) && !(acc & ACC_AC))) return false;
    return !(acc & ACC_WRITE) || w || !(m->cr0 & CR0_WP);
}

uint32_t guest_walk(const struct gmode *m, uint32_t va, unsigned acc, struct gtrans *t)
{
    if (!(m->cr0 & CR0_PG)) {
        *t = (struct gtrans){ .gpa = va, .write_ok = true, .user_ok = true, .dirty = true };
        return 0;
    }
    uint32_t pde_gpa = (m->cr3 & PT32_ADDR_MASK) + PT32_PD_INDEX(va) * 4;
    uint32_t pde = gpa_read32(pde_gpa);
    if (!(pde & PTE_P)) return pf_error(m, acc, false);
    t->pde_gpa = pde_gpa;
    if ((pde & PTE_PS) && (m->cr4 & CR4_PSE)) {
        if (pde & gwalk_rsvd_4m) return pf_error(m, acc, true) | PFEC_RSVD;
        bool w = pde & PTE_W, u = pde & PTE_U;
        if (!allowed(m, acc, w, u)) return pf_error(m, acc, true);
        uint32_t set = PTE_A | ((acc & ACC_WRITE) ? PTE_D : 0);
        if ((pde & set) != set) gpa_write32(pde_gpa, pde | set);
        *t = (struct gtrans){ .gpa = (pde & PT32_ADDR_4M) | (va & (LARGE_4M - 1)), .write_ok = w,
                              .user_ok = u, .dirty = (pde | set) & PTE_D,
                              .global = (pde & PTE_G) && (m->cr4 & CR4_PGE), .large = true,
                              .pde_gpa = pde_gpa };
        return 0;
    }
    /* The directory entry is used to find the table: its A is set before the table entry is
     * looked at, so a walk that then fails (entry not present, rights) leaves it set, as the
     * CPU's walk does (SDM 4.8; QEMU sets it there too). */
    if (!(pde & PTE_A)) gpa_write32(pde_gpa, pde | PTE_A);
    uint32_t pte_gpa = (pde & PT32_ADDR_MASK) + PT32_PT_INDEX(va) * 4;
    uint32_t pte = gpa_read32(pte_gpa);
    if (!(pte & PTE_P)) return pf_error(m, acc, false);
    bool w = (pde & PTE_W) && (pte & PTE_W), u = (pde & PTE_U) && (pte & PTE_U);
    if (!allowed(m, acc, w, u)) return pf_error(m, acc, true);
    uint32_t set = PTE_A | ((acc & ACC_WRITE) ? PTE_D : 0);
    if ((pte & set) != set) gpa_write32(pte_gpa, pte | set);
    *t = (struct gtrans){ .gpa = (pte & PT32_ADDR_MASK) | (va & (PAGE_SIZE - 1)), .write_ok = w,
                          .user_ok = u, .dirty = (pte | set) & PTE_D,
                          .global = (pte & PTE_G) && (m->cr4 & CR4_PGE), .large = false,
                          .pde_gpa = pde_gpa, .pte_gpa = pte_gpa };
    return 0;
}

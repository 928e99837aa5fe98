/* Guest paging, first version: a virtual TLB.
 *
 * Two shadow trees in PAE format, the kernel view (guest CPL 0) and the user view (guest
 * CPL 3); the real CPU runs on the one for the guest's current CPL. A shadow entry is made
 * only when the guest faults, from the guest's own tables as the software walker reads
 * them, and every entry is dropped on a guest CR3 write or paging-mode change (INVLPG drops
 * one page): the architecture allows a TLB to forget anything at any time, so this is
 * exact as long as a shadow entry never grants more than the guest's entries did when it
 * was made. The invariants:
 *  - a shadow entry is user-accessible (the guest runs at CPL3) but writable only when the
 *    guest's entries allow the write in that view and the guest's D bit is already set,
 *    so the first write faults and sets D, as the hardware would;
 *  - the user view holds only pages the guest's tables mark user-accessible, and the kernel
 *    view only supervisor pages while it was filled with SMAP in force (CR4.SMAP, EFLAGS.AC
 *    clear): entering that state empties it;
 *  - a shadow entry points only at the VM's own RAM frames or the shared all-ones page
 *    (read-only): never at monitor, pool, host or another VM's frames;
 *  - the two directory slots that map the monitor region are never touched by a flush.
 */
#include "paging/vtlb.h"
#include "paging/gwalk.h"
#include "monitor/mon.h"
#include "monitor/gmem.h"
#include "monitor/pool.h"
#include "monitor/reflect.h"
#include "monitor/relocate.h"
#include "monitor/emulate.h"
#include "paging/paging.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

enum { VIEW_KERNEL, VIEW_USER, VIEWS };
struct view {
    int pdpt_slot;
    int pd_slot[4];
    int16_t pt_slot[4][PAE_ENTRIES];     /* the page table behind each directory entry */
    uint32_t large[4][PAE_ENTRIES / 32]; /* that table holds entries made from a guest 4 MiB page */
};
static struct view views[VIEWS];
static bool user_view_built;
static bool kernel_smap;             /* the kernel view was filled with SMAP in force since its last flush */

/* Link the PDPT to its directories and the region's page tables into the right one. */
static void view_link(struct view *v)
{
    pae_entry_t *pdpt = pool_ptr(v->pdpt_slot);
    for (unsigned i = 0; i < 4; i++) {
        pdpt[i] = ((pae_entry_t)pool_frame(v->pd_slot[i]) << PAGE_SHIFT) | PTE_P;
        for (unsigned j = 0; j < PAE_ENTRIES; j++) v->pt_slot[i][j] = -1;
    }
    pae_entry_t *pd = pool_ptr(v->pd_slot[PAE_PDPT_INDEX(shared->region)]);
    pd[PAE_PD_INDEX(shared->region)] = shared->region_pde[0];
    pd[PAE_PD_INDEX(shared->region) + 1] = shared->region_pde[1];
}

static bool build_user_view(void);

void vtlb_init(void)
{
    struct view *k = &views[VIEW_KERNEL];
    k->pdpt_slot = 0;
    for (int i = 0; i < 4; i++) k->pd_slot[i] = 1 + i;
    view_link(k);
    user_view_built = false;
    if (!build_user_view())
        guest_stop(STOP_MONITOR_FAULT, "the initial pool is too small for the user view");
}

/* Build the user view's root from the pool; false when the pool is short. */
static bool build_user_view(void)
{
    if (pool_free_count() < 5) return false;
    struct view *u = &views[VIEW_USER];
    u->pdpt_slot = pool_get();
    memset(pool_ptr(u->pdpt_slot), 0, PAGE_SIZE);
    for (int i = 0; i < 4; i++) {
        u->pd_slot[i] = pool_get();
        memset(pool_ptr(u->pd_slot[i]), 0, PAGE_SIZE);
    }
    view_link(u);
    user_view_built = true;
    return true;
}

/* Drop every page table of one view, keeping the region's entries. */
static void view_flush(struct view *v)
{
    for (unsigned i = 0; i < 4; i++) {
        pae_entry_t *pd = pool_ptr(v->pd_slot[i]);
        for (unsigned j = 0; j < PAE_ENTRIES; j++) {
            if (v->pt_slot[i][j] < 0) continue;
            v->large[i][j / 32] &= ~(1u << (j % 32));
            pd[j] = 0;
            pool_put(v->pt_slot[i][j]);
            v->pt_slot[i][j] = -1;
        }
    }
}

static uint32_t view_root(const struct view *v) { return pool_frame(v->pdpt_slot) << PAGE_SHIFT; }

void vtlb_region_link(uint32_t base, bool link)
{
    for (int k = 0; k < VIEWS; k++) {
        pae_entry_t *pd = pool_ptr(views[k].pd_slot[PAE_PDPT_INDEX(base)]);
        pd[PAE_PD_INDEX(base)] = link ? shared->region_pde[0] : 0;
        pd[PAE_PD_INDEX(base) + 1] = link ? shared->region_pde[1] : 0;
    }
}

void vtlb_set_view(void)
{
    /* SMAP comes into force: the user pages the kernel view may hold go (a flush is exact). */
    bool smap = pt_smap_in_force();
    if (vcpu.cpl == 0 && smap != kernel_smap) {
        if (smap) view_flush(&views[VIEW_KERNEL]);
        kernel_smap = smap;
    }
    const struct view *v = &views[vcpu.cpl == 3 ? VIEW_USER : VIEW_KERNEL];
    __asm__ volatile("mov %0, %%cr3" :: "r"(view_root(v)) : "memory");
}

void vtlb_flush_all(void)
{
    shared->count.shadow_flushes++;
    view_flush(&views[VIEW_KERNEL]);
    view_flush(&views[VIEW_USER]);
    uint32_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
}

/* INVLPG: the page's entries go; where va lay in a guest 4 MiB page, the guest's TLB entry
 * for the whole 4 MiB goes (SDM 4.10.4.1), and with it every shadow entry made from such a
 * page in that range: both 2 MiB shadow tables are emptied (the PDE may have changed since,
 * so which entries came from it is known only from the table's mark). */
void vtlb_flush_va(uint32_t va)
{
    bool all = false;
    for (int k = 0; k < VIEWS; k++) {
        struct view *v = &views[k];
        unsigned i = PAE_PDPT_INDEX(va), j0 = PAE_PD_INDEX(va & ~(LARGE_4M - 1));
        for (unsigned j = j0; j < j0 + 2; j++) {
            if (v->pt_slot[i][j] < 0 || !(v->large[i][j / 32] & (1u << (j % 32)))) continue;
            memset(pool_ptr(v->pt_slot[i][j]), 0, PAGE_SIZE);
            v->large[i][j / 32] &= ~(1u << (j % 32));
            all = true;
        }
        int pt = v->pt_slot[i][PAE_PD_INDEX(va)];
        if (pt >= 0) ((pae_entry_t *)pool_ptr(pt))[PAE_PT_INDEX(va)] = 0;
    }
    if (all) {
        uint32_t cr3;
        __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
    } else {
        __asm__ volatile("invlpg %%fs:(%0)" :: "r"(va) : "memory");
    }
}

/* The shadow entry slot for va in view v, making its page table; NULL when the pool is empty. */
static pae_entry_t *shadow_pte(struct view *v, uint32_t va)
{
    unsigned i = PAE_PDPT_INDEX(va), j = PAE_PD_INDEX(va);
    if (v->pt_slot[i][j] < 0) {
        int s = pool_get();
        if (s == POOL_NONE) return 0;
        memset(pool_ptr(s), 0, PAGE_SIZE);
        v->pt_slot[i][j] = (int16_t)s;
        ((pae_entry_t *)pool_ptr(v->pd_slot[i]))[j] =
            ((pae_entry_t)pool_frame(s) << PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
    }
    return &((pae_entry_t *)pool_ptr(v->pt_slot[i][j]))[PAE_PT_INDEX(va)];
}

void vtlb_page_fault(struct guest_frame *f)
{
    uint32_t va, e;
    __asm__ volatile("mov %%cr2, %0" : "=r"(va));
    unsigned acc = ((f->error & PFEC_W) ? ACC_WRITE : 0) | glin_acc() | ((f->error & PFEC_I) ? ACC_FETCH : 0);
    struct gmode m = { vcpu.cr0, vcpu.cr3, vcpu.cr4 };
    struct gtrans t;

    /* Reserve before changing anything: the walk below may set A/D bits in the guest. */
    if (pool_free_count() < 1) pool_wait();
    e = guest_walk(&m, va, acc, &t);
    if (e) {
        shared->count.guest_page_faults++;
        deliver_pf(f, va, e);
        return;
    }
    bool in_region = va - shared->region < MON_REGION_SIZE;
    pae_entry_t entry;
    if (!gpa_is_ram(t.gpa)) {
        /* Nothing behind it: reads give all ones (a shared read-only page of them), writes
         * are dropped by emulating the instruction, and so is any access that falls in the
         * monitor's own range, where no guest page can be mapped. */
        if ((acc & ACC_WRITE) || in_region || gpa_is_device(t.gpa)) { emulate_data_access(f); return; }
        entry = ((pae_entry_t)shared->ones_frame << PAGE_SHIFT) | PTE_P | PTE_U;
    } else {
        if (in_region) relocate_monitor(va);
        bool may_write = vcpu.cpl == 3 ? t.write_ok : (t.write_ok || !(vcpu.cr0 & CR0_WP));
        entry = ((pae_entry_t)gpa_frame(t.gpa) << PAGE_SHIFT) | PTE_P | PTE_U;
        if (may_write && t.dirty) entry |= PTE_W;
    }
    struct view *v = &views[vcpu.cpl == 3 ? VIEW_USER : VIEW_KERNEL];
    pae_entry_t *pte = shadow_pte(v, va);
    if (!pte) pool_wait();
    *pte = entry;
    if (t.large) v->large[PAE_PDPT_INDEX(va)][PAE_PD_INDEX(va) / 32] |= 1u << (PAE_PD_INDEX(va) % 32);
    __asm__ volatile("invlpg %%fs:(%0)" :: "r"(va) : "memory");
    shared->count.shadow_fills++;
}

/* The monitor's guest paging: the engine the VM chose, its faults, and table writes.
 *
 * A write to a protected guest table is applied in one of two ways (pt.write=):
 *  - emulate: decode the instruction and perform it through the guest's own tables; the
 *    monitor's write lands in pt_guest_written, which updates the shadows. One trap.
 *  - singlestep (the seed's way): copy the part of the table page the instruction can reach,
 *    let the one faulting entry allow the write, set TF and run the instruction; at the #DB
 *    (or any fault the instruction takes instead) protect the page again and apply what
 *    changed, entry by entry, to the shadows.
 *    No interrupt is let in during the step, the guest's own TF is kept aside and its #DB
 *    delivered when it asked for one. An instruction the emulator cannot perform is stepped
 *    whatever the setting.
 * Under pt.protect=us a guest read of a protected table is emulated the same way; one the
 * emulator cannot perform (CMOV, IMUL, SSE, SCAS, CMPS, ...) is stepped with the page made
 * readable for it alone, and the pages an instruction read on its last steps stay readable
 * for its next one (REPE CMPSD between two tables needs both at once).
 *
 * SMAP. The guest kernel runs on its kernel view while SMAP lets it reach user pages (CR4.SMAP
 * clear, or EFLAGS.AC set) and on the SMAP view, which leaves them out, while SMAP is in force
 * (shadow.c). Its EFLAGS.AC changes only through the monitor while it runs scanned: STAC and
 * CLAC (#UD at CPL3), POPF (patched), IRET, task switches, and user mode's own flags on an
 * event into the kernel. So the view is worked out again from the virtual CPU just before the
 * guest runs (pt_sync) and on every CPL change, and loaded when it differs from the one in
 * the real CR3: two cached roots, no flush. With SMAP off this costs one comparison per trap.
 * The monitor's own accesses follow the same rule in the walker (glin_acc: ACC_AC).
 */
#include "paging/paging.h"
#include "paging/shadow.h"
#include "paging/stlb.h"
#include "paging/vtlb.h"
#include "paging/env.h"
#include "monitor/mon.h"
#include "monitor/gmem.h"
#include "monitor/pool.h"
#include "monitor/reflect.h"
#include "monitor/relocate.h"
#include "monitor/emulate.h"
#include "monitor/code.h"
#include "monitor/tables.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

#define gft_words ((uint32_t *)MON_OFF_GFT)

static bool shadow_on;
static unsigned loaded_view;        /* the view whose root is in the real CR3 */

/* ---- what the engine needs from the monitor ---- */

void env_tlb_flush(void)
{
    uint32_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) :: "memory");
}
void env_load_cr3(uint32_t cr3) { __asm__ volatile("mov %0, %%cr3" :: "r"(cr3) : "memory"); }
uint32_t env_gft(uint32_t gfn) { return gft_words[gfn]; }
void env_gft_set(uint32_t gfn, uint32_t w) { gft_words[gfn] = w; }
uint32_t env_guest_pages(void) { return shared->guest_pages; }

static void invlpg(uint32_t va) { __asm__ volatile("invlpg %%fs:(%0)" :: "r"(va) : "memory"); }
static struct gmode mode(void) { return (struct gmode){ vcpu.cr0, vcpu.cr3, vcpu.cr4 }; }

static inline bool smap_in_force(void)
{
    return vcpu.cpl == 0 && (vcpu.cr4 & CR4_SMAP) && (vcpu.cr0 & CR0_PG) && !(GUEST_FRAME->eflags & EFL_AC);
}

bool pt_smap_in_force(void) { return smap_in_force(); }

/* The view the guest runs on: its user view at CPL 3; at CPL 0 the SMAP view while SMAP keeps
 * the kernel from user pages, else the kernel view. */
static inline unsigned view(void)
{
    if (vcpu.cpl == 3) return VIEW_USER;
    return smap_in_force() ? VIEW_SMAP : VIEW_KERNEL;
}

/* Run on the current root in the view the guest's state asks for. */
static inline void load_view(void)
{
    loaded_view = view();
    if (shadow_on) env_load_cr3(sh_cr3(loaded_view));
    else vtlb_set_view();
}

/* The physical-address width a 4 MiB page's entry can name (SDM 4.3): MAXPHYADDR up to 40
 * with PSE-36, else 32. */
static unsigned pse_width(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(d & (1u << 17))) return 32;                    /* no PSE-36 */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
    if (a < 0x80000008u) return 36;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008u), "c"(0));
    return a & 0xff;
}

void pt_init(void)
{
    gwalk_rsvd_4m = gwalk_rsvd_4m_for(pse_width());
    stlb_init(&shared->count.pt.stlb_hits, &shared->count.pt.stlb_misses);
    shadow_on = shared->pt.engine == PT_SHADOW;
    if (!shadow_on) { vtlb_init(); return; }
    struct sh_config c = {
        shared->pt.protect, shared->pt.prefault, shared->pt.roots ? shared->pt.roots : PT_ROOTS_MAX,
        shared->region, { shared->region_pde[0], shared->region_pde[1] }, shared->ones_frame,
        shared->scan != 0,
    };
    int pdpt[2] = { pool_get(), pool_get() };
    if (pdpt[1] == POOL_NONE) guest_stop(STOP_MONITOR_FAULT, "the initial pool is too small for the shadow roots");
    memset(pool_ptr(pdpt[0]), 0, PAGE_SIZE);
    memset(pool_ptr(pdpt[1]), 0, PAGE_SIZE);
    sh_init(&c, &shared->count.pt, pdpt);
    struct gmode m = mode();
    if (!sh_switch(&m)) guest_stop(STOP_MONITOR_FAULT, "the initial pool is too small for the shadow roots");
    load_view();
    /* The supervisor's first root (pool slots 0-4) is not used any more. */
    for (int s = 0; s < 5; s++) pool_put(s);
}

/* ---- single-stepped table writes ---- */

/* What a stepped instruction may write of the table page: from 64 bytes before the faulting
 * address (PUSHA and ENTER write downwards) to 640 after it (FXSAVE's 512 bytes, aligned).
 * Only an XSAVE of more state than that into a page table would be missed. */
#define STEP_BEFORE 64u
#define STEP_AFTER  640u

static struct {
    bool on, guest_tf, read;     /* read: a table read under pt.protect=us, nothing to compare */
    unsigned view;
    uint32_t va, gpa;            /* the written linear address; the compared range of its page */
    uint32_t len, fault_gpa;
    uint32_t before[(STEP_BEFORE + STEP_AFTER) / 4];
} step;

bool pt_stepping(void) { return step.on; }

/* Let the guest's instruction write the table page at va once, with TF set. */
static void step_write(struct guest_frame *f, uint32_t va, uint32_t gpa)
{
    uint64_t *leaf = sh_leaf(view(), va);
    if (!leaf) guest_stop(STOP_MONITOR_FAULT, "no shadow entry to step a table write at %08x", va);
    step.on = true;
    step.guest_tf = (f->eflags & EFL_TF) != 0;
    step.view = view();
    step.va = va;
    uint32_t off = gpa & (PAGE_SIZE - 1) & ~63u;
    uint32_t lo = off > STEP_BEFORE ? off - STEP_BEFORE : 0;
    uint32_t hi = off + STEP_AFTER < PAGE_SIZE ? off + STEP_AFTER : PAGE_SIZE;
    step.gpa = (gpa & PAGE_MASK) + lo;
    step.len = hi - lo;
    step.fault_gpa = gpa & ~3u;
    gpa_read(step.gpa, step.before, step.len);
    *leaf |= PTE_W | PTE_U | PTE_D;
    invlpg(va);
    f->eflags |= EFL_TF;
    shared->count.pt.writes_stepped++;
}

/* The table pages the stepped read of the instruction at eip has been given, in one view of
 * one address space: its next step gets them all again. */
#define STEP_READS 4
static struct { uint32_t eip, cr3, n; unsigned view; uint32_t va[STEP_READS]; } sreads;

/* Make the read-protected table pages of sreads readable (or not) in its view. */
static void sreads_grant(bool on)
{
    for (unsigned i = 0; i < sreads.n; i++) {
        uint64_t *leaf = sh_leaf(sreads.view, sreads.va[i]);
        if (!leaf || !(*leaf & PTE_P)) continue;
        if (on) *leaf |= PTE_U; else *leaf &= ~(uint64_t)PTE_U;
        invlpg(sreads.va[i]);
    }
}

/* pt.protect=us: let the guest's instruction read the table page at va once, with TF set. */
static void step_read(struct guest_frame *f, uint32_t va)
{
    va &= PAGE_MASK;
    if (sreads.eip != f->eip || sreads.cr3 != vcpu.cr3 || sreads.view != view()) sreads.n = 0;
    sreads.eip = f->eip;
    sreads.cr3 = vcpu.cr3;
    sreads.view = view();
    bool known = false;
    for (unsigned i = 0; i < sreads.n; i++) known |= sreads.va[i] == va;
    if (!known) {
        if (sreads.n == STEP_READS) { memmove(sreads.va, sreads.va + 1, sizeof sreads.va - 4); sreads.n--; }
        sreads.va[sreads.n++] = va;
    }
    sreads_grant(true);
    step.on = true;
    step.read = true;
    step.guest_tf = (f->eflags & EFL_TF) != 0;
    step.view = view();
    f->eflags |= EFL_TF;
}

/* Protect the page again and apply to the shadows what the instruction changed in it. */
static void step_end(struct guest_frame *f)
{
    if (step.read) {
        sreads_grant(false);
        step.on = step.read = false;
        f->eflags = (f->eflags & ~EFL_TF) | (step.guest_tf ? EFL_TF : 0);
        return;
    }
    uint64_t *leaf = sh_leaf(step.view, step.va);
    /* A window entry stands only while its page's kernel-view entry is there (shadow.c). */
    if (leaf && (*leaf & PTE_P) && env_code_source((uint32_t)((*leaf & PAE_ADDR_MASK) >> PAGE_SHIFT)))
        sh_window_flush();
    if (leaf) *leaf = 0;                 /* refilled, protected, on the next access */
    invlpg(step.va);
    step.on = false;
    f->eflags = (f->eflags & ~EFL_TF) | (step.guest_tf ? EFL_TF : 0);
    uint32_t now[(STEP_BEFORE + STEP_AFTER) / 4];
    gpa_read(step.gpa, now, step.len);
    bool seen = false;
    for (unsigned i = 0; i < step.len / 4; i++) {
        if (now[i] == step.before[i]) continue;
        sh_table_write(step.gpa + i * 4, 4, vcpu.cpl == 3);
        seen |= step.gpa + i * 4 == step.fault_gpa;
    }
    /* A write that changed nothing still counts as one (the heuristics that stop shadowing a
     * page that is no longer a table go by writes, not by changes). */
    if (!seen) sh_table_write(step.fault_gpa, 4, vcpu.cpl == 3);
    stlb_flush();
}

bool pt_step_trap(struct guest_frame *f)
{
    if (!step.on || (f->vector >= 32 && f->vector < 48)) return false;     /* host IRQs: it waits */
    bool guest_tf = step.guest_tf;
    step_end(f);
    if (f->vector != EXC_DB || guest_tf) return false;
    uint32_t dr6, zero = 0;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    if (dr6 & 0xfu) return false;        /* a breakpoint hit too: the guest's #DB */
    __asm__ volatile("mov %0, %%dr6" :: "r"(zero));
    return true;
}

/* ---- faults ---- */

/* A write to a protected table page at va (guest-physical gpa). */
static void table_write(struct guest_frame *f, uint32_t va, uint32_t gpa)
{
    if (shared->pt.write == PT_WRITE_EMULATE && emulate_memory_insn(f)) {
        shared->count.pt.writes_emulated++;
        return;
    }
    step_write(f, va, gpa);
}

/* Make sure a fault or a root switch finds the pages it may need: suspend until the
 * supervisor refills the pool (the instruction runs again then); when the host has said it
 * has nothing to give, drop cold roots instead, then the current root's tables, and stop
 * only when even that is not enough. */
static void reserve(unsigned want)
{
    if (pool_free_count() >= want) return;
    if (pool_refused()) {
        sh_shrink(want);
        if (pool_free_count() < want) code_shrink();
        if (pool_free_count() < want) sh_trim_current();
        sh_sync();
    }
    if (pool_free_count() < want) pool_wait_for(want);
}

/* A fill that does not take (the same access faulting on and on with nothing else between)
 * would hang the machine with the guest's IF clear: stop the guest and say what was seen.
 * Only plain fills count: an access the monitor performs itself (a protected table read in
 * us mode, a table write) may well repeat, in a loop that reads the same entry. */
static void check_progress(const struct guest_frame *f, uint32_t va, bool counts)
{
    static uint32_t last_va, last_eip, last_seq, repeats;
    /* Anything else trapped since (a table write, an INVLPG, an interrupt): it moved on. */
    bool same = counts && va == last_va && f->eip == last_eip && vcpu.trap_seq == last_seq + 1;
    last_va = va; last_eip = f->eip; last_seq = vcpu.trap_seq;
    if (!same) { repeats = 0; return; }
    if (++repeats < 64) return;
    uint32_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *leaf = sh_leaf(view(), va);
    guest_stop(STOP_MONITOR_FAULT, "the shadow entry for %08x does not take (eip %08x): real CR3 %08x, the root's "
               "%08x, leaf %08x%08x", va, f->eip, cr3, sh_cr3(view()), leaf ? (uint32_t)(*leaf >> 32) : 0,
               leaf ? (uint32_t)*leaf : 0);
}

void pt_page_fault(struct guest_frame *f)
{
    if (!shadow_on) { vtlb_page_fault(f); return; }
    uint32_t va;
    __asm__ volatile("mov %%cr2, %0" : "=r"(va));
    /* An explicit access at the guest's CPL (the guest's implicit ones are all the monitor's),
     * as glin_acc says. */
    unsigned acc = ((f->error & PFEC_W) ? ACC_WRITE : 0) | ((f->error & PFEC_I) ? ACC_FETCH : 0) |
                   (vcpu.cpl == 3 ? ACC_USER : (vcpu.cr4 & CR4_SMAP) && (f->eflags & EFL_AC) ? ACC_AC : 0);
    if (vcpu.cpl == 0 && (f->error & PFEC_I) && code_on()) {
        /* The guest kernel fetches only from the code window (monitor/code.c). The copy, the
         * window's table and a directory for it in each kernel view, and the data view's
         * fill: at most seven pages. */
        reserve(SH_RESERVE + 4);
        code_fetch_fault(f, va);
        return;
    }
    reserve(SH_RESERVE);
    struct gmode m = mode();
    struct gtrans t;
    uint32_t e = guest_walk(&m, va, acc, &t);
    if (e) {
        shared->count.guest_page_faults++;
        deliver_pf(f, va, e);
        return;
    }
    bool in_region = va - (shared->region - code_reserved()) < MON_REGION_SIZE + code_reserved();
    /* Holes take writes and device pages everything through the emulator (which may suspend
     * for a device model and not return); a hole's reads get the page of ones. */
    if (!gpa_is_ram(t.gpa) && ((acc & ACC_WRITE) || in_region || gpa_is_device(t.gpa))) {
        emulate_data_access(f);
        return;
    }
    if (in_region) relocate_monitor(va);
    enum sh_result r = sh_fill(&m, view(), va, &t, acc & ACC_WRITE);
    if (r == SH_NO_POOL) pool_wait();
    shared->count.shadow_fills++;
    check_progress(f, va, r != SH_TABLE);
    if (r != SH_TABLE) return;
    if (acc & ACC_WRITE) { table_write(f, va, t.gpa); return; }
    /* pt.protect=us: the guest reads its own table; the entry stays supervisor-only. */
    shared->count.pt.reads_emulated++;
    if (!emulate_memory_insn(f)) step_read(f, va);
}

void pt_reserve(void)
{
    if (shadow_on) reserve(SH_RESERVE);
}

/* Run on the root for the guest's new CR3 (found again, or built); after a paging-mode change
 * (reset) every shadow is dropped first. The caller reserved the pages (pt_reserve). */
static void new_root(bool reset)
{
    stlb_flush();
    if (!shadow_on) { vtlb_flush_all(); return; }
    struct gmode m = mode();
    if (!(reset ? sh_reset(&m) : sh_switch(&m)))
        guest_stop(STOP_MONITOR_FAULT, "no pool pages for a shadow root after reserving them");
    load_view();
}

void pt_cr3_written(void) { new_root(false); }
void pt_mode_changed(void) { new_root(true); }
void pt_smap_changed(void) { new_root(false); }

void pt_invlpg(uint32_t va)
{
    stlb_flush();
    /* The shadows never go stale (every write to a shadowed table is applied to them), so
     * only the real TLB holds anything to forget. */
    if (!shadow_on) vtlb_flush_va(va);
    else invlpg(va);
}

void pt_set_view(void) { load_view(); }

void pt_region_link(uint32_t base, bool link)
{
    if (!shadow_on) { vtlb_region_link(base, link); return; }
    if (!sh_region_link(base, link))
        guest_stop(STOP_MONITOR_FAULT, "no pool pages to map the monitor region at %08x", base);
}

void pt_relocated(void)
{
    stlb_flush();
    if (!shadow_on) { vtlb_flush_all(); return; }
    sh_relocated();
    load_view();
}

void pt_guest_written(uint32_t gpa, uint32_t n)
{
    if (!shadow_on || !sh_is_table(gpa)) return;
    sh_table_write(gpa, n, vcpu.cpl == 3);
    stlb_flush();
}

void pt_shrink(uint32_t n)
{
    /* Pages freed by dropping cold roots go back; the monitor keeps its minimum to work with. */
    unsigned keep = shared->pool_min;
    if (shadow_on) sh_shrink(keep + n);
    if (pool_free_count() < keep + n) code_shrink();
    unsigned spare = pool_free_count() > keep ? pool_free_count() - keep : 0;
    pool_shrink(spare < n ? spare : n);
}

void pt_sync(void)
{
    /* EFLAGS.AC changed since the view was loaded (STAC, CLAC, POPF, IRET...). Without SMAP
     * only a CPL change moves the view, and set_cpl has loaded it. */
    if ((vcpu.cr4 & CR4_SMAP) && view() != loaded_view) load_view();
    if (shadow_on) sh_sync();
}

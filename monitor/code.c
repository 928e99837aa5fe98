/* Scan-before-execute: the copies of guest kernel code pages and the code window.
 *
 * The story. x86 pages cannot be execute-only, so a patched copy of guest code mapped where
 * the guest's code is would also be what the guest reads (jump tables, checksums, data that
 * shares a page with code). Instead the guest kernel fetches from elsewhere: every guest code
 * segment except its user code gets its base moved by `bias` in the real tables (desc.c), so
 * that the kernel's fetches land in the code window, a 4 MiB range below the monitor region
 * that stands for the guest-linear range [cover, cover + 4 MiB). Data segments keep the
 * guest's bases: reads and writes go to the guest's own pages, which the kernel view maps NX.
 * EIP and every frame stay the guest's; only the linear address of a fetch differs.
 *  - A fetch outside [cover, cover + 4 MiB) lands on an NX page or on nothing: the window is
 *    moved to cover it (all window entries go).
 *  - A fetch in the window with no entry: the guest's own walk decides (its #PF is delivered
 *    with its own address); otherwise the guest page gets its copy (scanned from the address
 *    fetched, monitor/scan.c) and the window maps the copy, in this root's kernel view.
 *  - A copy is an SP_CODE shadow page, so its guest page is protected like a table: a guest
 *    write to it traps and is applied by the monitor, and a write that touches decoded bytes
 *    drops the copy; writes elsewhere in the page (data beside code) leave it.
 *  - A window entry stands for a translation: whatever may change one (a table write that
 *    moves a page with a copy, a directory entry over the covered range, a table let go)
 *    empties the windows of every root (paging/shadow.c), and they refill on fault.
 * The copy is filled with INT3 except for decoded instructions, so a jump to anywhere not
 * scanned yet traps and is scanned then; an INT3 whose guest byte is not INT3 is ours.
 */
#include "monitor/code.h"
#include "monitor/scan.h"
#include "monitor/mon.h"
#include "monitor/gmem.h"
#include "monitor/desc.h"
#include "monitor/pool.h"
#include "monitor/reflect.h"
#include "monitor/relocate.h"
#include "monitor/emulate.h"
#include "paging/shadow.h"
#include "paging/spage.h"
#include "paging/env.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

#define COPIES 160u

struct copy {
    int16_t slot;                /* its SP_CODE shadow page; -1: the record is free */
    uint16_t head;               /* leading bytes that end an instruction of the page before */
    int16_t head_from;           /* the record of that page's copy (a hint: it may have gone) */
    uint16_t tail, tail_at;      /* bytes of the next page an instruction of this one takes,
                                    and where that instruction starts */
    uint8_t tail_bytes[16];      /* those bytes as they were decoded */
    uint32_t gfn, src;           /* the guest page and its host frame */
    uint8_t start[SCAN_PAGE / 8], covered[SCAN_PAGE / 8];
};
static struct copy copies[COPIES];
static uint8_t rec_of_slot[MON_POOL_SLOTS];     /* record + 1 of an SP_CODE slot, 0 none */
static uint8_t src_hash[256];                    /* copies whose guest frame's host frame % 256 is i */
static unsigned live, victim;
static bool on;
static uint32_t cover, bias;

#define sc (shared->count.scan)

bool code_on(void) { return on; }
uint32_t code_reserved(void) { return on ? CODE_WINDOW_SIZE : 0; }
static uint32_t window(void) { return shared->region - CODE_WINDOW_SIZE; }

/* Let the window stand for the 4 MiB around guest-linear lin (lin at least 1 MiB in). */
static void set_cover(uint32_t lin)
{
    cover = lin < (1u << 20) ? 0 : (lin - (1u << 20)) & ~((2u << 20) - 1);
    bias = window() - cover;
    sh_window_cover(cover);
    sh_window_flush();
    desc_set_code_bias(bias);
}

void code_init(void)
{
    on = shared->scan;
    for (unsigned i = 0; i < COPIES; i++) copies[i].slot = -1;
    if (on) set_cover(shared->entry_eip);
}

void code_region_moved(void)
{
    if (on) set_cover(cover + (1u << 20));
}

/* The guest-physical address of guest-linear lin by the guest's tables, without touching its
 * A bits (the CPU has not used the entry); false when it is not mapped. */
static bool peek(uint32_t lin, uint32_t *gpa)
{
    uint32_t a = lin;
    if (vcpu.cr0 & CR0_PG) {
        uint32_t pde = gpa_read32((vcpu.cr3 & PT32_ADDR_MASK) + (lin >> 22) * 4);
        if (!(pde & PTE_P)) return false;
        if ((pde & PTE_PS) && (vcpu.cr4 & CR4_PSE)) a = (pde & PT32_ADDR_4M) | (lin & (LARGE_4M - 1));
        else {
            uint32_t pte = gpa_read32((pde & PT32_ADDR_MASK) + ((lin >> 12) & 1023) * 4);
            if (!(pte & PTE_P)) return false;
            a = (pte & PT32_ADDR_MASK) | (lin & (PAGE_SIZE - 1));
        }
    }
    *gpa = a;
    return true;
}

static bool bit(const uint8_t *m, unsigned i) { return m[i / 8] & (1u << (i % 8)); }

/* The copy record of guest page gfn, or -1. */
static int copy_find(uint32_t gfn)
{
    struct sp_key k = { gfn, SP_CODE, 0, 0 };
    int s = sp_find(&k);
    return s < 0 ? -1 : rec_of_slot[s] - 1;
}

/* Drop copy i: its guest page is an ordinary page again and no window maps the copy. */
static void copy_drop(unsigned i)
{
    int s = copies[i].slot;
    rec_of_slot[s] = 0;
    copies[i].slot = -1;
    src_hash[copies[i].src % 256]--;
    live--;
    sp_put(s);
    sh_window_flush();
    sc.copies_now = live;
}

/* Is the code segment the frame runs on 32-bit? */
static bool code32(const struct guest_frame *f) { return (desc_shadow_of((uint16_t)f->cs).hi >> 22) & 1; }

/* Give copy n the end of copy p's instruction across the page end (its first p->tail bytes as
 * the guest has them now). When n decoded instructions there itself, p's instruction traps at
 * its start instead (the monitor performs it). */
static void adopt_head(unsigned p, unsigned n)
{
    struct copy *pp = &copies[p], *np = &copies[n];
    for (unsigned b = 0; b < pp->tail; b++)
        if (bit(np->start, b)) { ((uint8_t *)pool_ptr(pp->slot))[pp->tail_at] = SCAN_FILL; return; }
    gpa_read(np->gfn << PAGE_SHIFT, pool_ptr(np->slot), pp->tail);
    if (pp->tail > np->head) np->head = pp->tail;
    np->head_from = (int16_t)p;
}

/* The page before guest-linear page lin ends with an instruction that runs into it: check that
 * copy c holds what that instruction was decoded with. If the guest has other bytes there now
 * (the page changed before it had a copy, or lin maps another frame in this address space), the
 * copy before is dropped and scanned again when it runs. */
static void check_tail(uint32_t lin, unsigned c)
{
    uint32_t pgpa;
    int p = peek((lin & PAGE_MASK) - PAGE_SIZE, &pgpa) && gpa_is_ram(pgpa) ? copy_find(pgpa >> PAGE_SHIFT) : -1;
    if (p < 0 || !copies[p].tail || (unsigned)p == c) return;
    uint8_t now[16];
    gpa_read(copies[c].gfn << PAGE_SHIFT, now, copies[p].tail);
    if (memcmp(now, copies[p].tail_bytes, copies[p].tail)) { copy_drop((unsigned)p); sc.dropped++; return; }
    if (copies[c].head < copies[p].tail || copies[c].head_from != p) adopt_head((unsigned)p, c);
}

/* Scan copy c (guest-linear page of lin) from offset entry. */
static void scan(unsigned c, uint32_t lin, unsigned entry, bool is32)
{
    struct copy *p = &copies[c];
    uint8_t next[SCAN_NEXT];
    uint32_t ngpa;
    bool have_next = peek((lin & PAGE_MASK) + PAGE_SIZE, &ngpa);
    if (have_next) gpa_read(ngpa & PAGE_MASK, next, SCAN_NEXT);      /* a hole reads as ones */
    struct scan_page sp = { pool_ptr(p->slot), p->start, p->covered };
    struct scan_result r;
    scan_page(&sp, (const uint8_t *)gpa_words(p->gfn << PAGE_SHIFT), have_next ? next : 0, entry, is32, &r);
    sc.scans++;
    sc.decoded += r.decoded;
    sc.patched += r.patched;
    sc.opaque += r.opaque;
    sc.overlaps += r.overlaps;
    if (!r.tail) return;
    p->tail = (uint16_t)r.tail;
    p->tail_at = (uint16_t)r.tail_at;
    memcpy(p->tail_bytes, next, r.tail);
    /* The next page's copy, if it has one already, must hold the instruction's end as it is. */
    int n = gpa_is_ram(ngpa) ? copy_find(ngpa >> PAGE_SHIFT) : -1;
    if (n >= 0 && (unsigned)n != c) adopt_head(c, (unsigned)n);
}

/* A new copy of guest page gfn, seen at guest-linear lin: all INT3 but the end of an
 * instruction that the page before starts. -1 when the pool is empty. */
static int copy_new(uint32_t gfn, uint32_t lin)
{
    if (live == COPIES) {
        while (copies[victim % COPIES].slot < 0) victim++;
        copy_drop(victim++ % COPIES);
        sc.evicted++;
    }
    unsigned i = 0;
    while (copies[i].slot >= 0) i++;
    struct sp_key k = { gfn, SP_CODE, 0, 0 };
    int s = sp_new(&k);          /* protects gfn: writes to it trap from now on */
    if (s < 0) return -1;
    sp_get(s);
    struct copy *p = &copies[i];
    p->slot = (int16_t)s;
    p->gfn = gfn;
    p->src = gpa_frame(gfn << PAGE_SHIFT);
    src_hash[p->src % 256]++;
    p->head = p->tail = 0;
    memset(p->start, 0, sizeof p->start);
    rec_of_slot[s] = (uint8_t)(i + 1);
    memset(pool_ptr(s), SCAN_FILL, PAGE_SIZE);
    memset(p->covered, 0, sizeof p->covered);
    p->head_from = -1;
    check_tail(lin, i);
    live++;
    sc.copies++;
    sc.copies_now = live;
    if (live > sc.copies_max) sc.copies_max = live;
    return (int)i;
}

void env_code_written(int slot, uint32_t first, uint32_t last)
{
    int i = rec_of_slot[slot] - 1;
    if (i < 0) return;
    struct copy *p = &copies[i];
    /* An instruction is at most 15 bytes: one starting 14 bytes before may reach first. */
    bool hit = first < p->head;
    /* The end of the page before's instruction changed: that copy goes too. */
    int h = hit ? p->head_from : -1;
    if (h >= 0 && copies[h].slot >= 0 && copies[h].tail) { copy_drop((unsigned)h); sc.dropped++; }
    for (uint32_t o = first > 14 ? first - 14 : 0; !hit && o <= last && o < SCAN_PAGE; o++) hit = bit(p->start, o);
    if (hit) { copy_drop((unsigned)i); sc.dropped++; }
    else sc.writes_kept++;
}

bool env_code_source(uint32_t pfn)
{
    if (!src_hash[pfn % 256]) return false;      /* the usual answer, at once */
    for (unsigned i = 0; i < COPIES; i++)
        if (copies[i].slot >= 0 && copies[i].src == pfn) return true;
    return false;
}

unsigned code_shrink(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < COPIES; i++)
        if (copies[i].slot >= 0) { copy_drop(i); n++; }
    return n;
}

void code_iopl_changed(void)
{
    if (!on) return;
    scan_pushf = vcpu.iopl != 0;
    code_shrink();
}

void code_fetch_fault(struct guest_frame *f, uint32_t va)
{
    static uint32_t last_va, last_seq, repeats;
    repeats = va == last_va && vcpu.trap_seq == last_seq + 1 ? repeats + 1 : 0;
    last_va = va; last_seq = vcpu.trap_seq;
    if (repeats >= 64)
        guest_stop(STOP_MONITOR_FAULT, "the code window entry for %08x does not take (guest eip %08x, bias %08x)",
                   va, f->eip, bias);
    sc.fetch_faults++;
    uint32_t lin = va - bias;
    if (va - window() >= CODE_WINDOW_SIZE) {
        sc.window_moves++;
        set_cover(lin);
        return;
    }
    struct gmode m = { vcpu.cr0, vcpu.cr3, vcpu.cr4 };
    struct gtrans t;
    uint32_t e = guest_walk(&m, lin, ACC_FETCH, &t);
    if (e) {
        shared->count.guest_page_faults++;
        deliver_pf(f, lin, e);
        return;
    }
    /* The window stands where the guest maps nothing: if it maps something there now (a table
     * in RAM, or a large page), move the monitor and the window. */
    if (vcpu.cr0 & CR0_PG) {
        uint32_t pde = gpa_read32((vcpu.cr3 & PT32_ADDR_MASK) + (window() >> 22) * 4);
        if ((pde & PTE_P) && !region_pde_hole(pde) &&
            (((pde & PTE_PS) && (vcpu.cr4 & CR4_PSE)) || gpa_is_ram(pde & PT32_ADDR_MASK)))
            relocate_monitor(window());
    }
    if (!gpa_is_ram(t.gpa)) {
        /* Code from a hole or a device page: it runs what reading it gives, all ones. */
        if (!sh_window_map(va & PAGE_MASK, shared->ones_frame)) pool_wait();
        return;
    }
    /* The data view's entry too: its guest table is then tracked, so a remap of this page
     * reaches the window (shadow.c). */
    if (sh_fill(&m, VIEW_KERNEL, lin, &t, false) == SH_NO_POOL) pool_wait();
    int c = copy_find(t.gpa >> PAGE_SHIFT);
    if (c < 0 && (c = copy_new(t.gpa >> PAGE_SHIFT, lin)) < 0) pool_wait();
    check_tail(lin, (unsigned)c);
    if (copies[c].slot < 0) return;                /* cannot happen: only the copy before goes */
    uint32_t at = seg_base((uint16_t)f->cs) + f->eip;
    if ((at & PAGE_MASK) == (lin & PAGE_MASK) && !bit(copies[c].start, at & (PAGE_SIZE - 1)))
        scan((unsigned)c, lin, at & (PAGE_SIZE - 1), code32(f));
    if (!sh_window_map(va & PAGE_MASK, pool_frame(copies[c].slot))) pool_wait();
}

bool code_breakpoint(struct guest_frame *f)
{
    if (!on || vcpu.cpl != 0) return false;
    uint32_t lin = seg_base((uint16_t)f->cs) + f->eip - 1, gpa;
    if (!peek(lin, &gpa) || !gpa_is_ram(gpa)) return false;
    int c = copy_find(gpa >> PAGE_SHIFT);
    if (c < 0) return false;
    unsigned off = lin & (PAGE_SIZE - 1);
    uint8_t orig;
    gpa_read(gpa, &orig, 1);
    if (((uint8_t *)pool_ptr(copies[c].slot))[off] != SCAN_FILL || orig == SCAN_FILL) return false;
    f->eip--;
    if (bit(copies[c].start, off)) {
        sc.patch_traps++;
        emulate_sensitive(f);
    } else {
        sc.entry_traps++;
        scan((unsigned)c, lin, off, code32(f));
        if (!bit(copies[c].start, off)) {
            /* It runs into a page the guest does not map: the fetch faults there, as natively
             * (CR2 the next page, EIP the instruction). */
            uint32_t next = (lin & PAGE_MASK) + PAGE_SIZE, e;
            struct gmode m = { vcpu.cr0, vcpu.cr3, vcpu.cr4 };
            struct gtrans t;
            if (!(e = guest_walk(&m, next, ACC_FETCH, &t)))
                guest_stop(STOP_MONITOR_FAULT, "the instruction at %08x cannot be decoded, and the page after it "
                           "is mapped", lin);
            shared->count.guest_page_faults++;
            deliver_pf(f, next, e);
        }
    }
    return true;
}

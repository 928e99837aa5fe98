/* Guest memory for the monitor: windows onto guest frames, and guest-linear copies. */
#include "monitor/gmem.h"
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "paging/gwalk.h"
#include "paging/stlb.h"
#include "paging/paging.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"
#include "arch/x86/apic.h"
#include "lib/string.h"

#define region_pt ((volatile pae_entry_t *)MON_OFF_PT)
#define gft ((const uint32_t *)MON_OFF_GFT)

/* Windows: W_PHYS for whole-page copies here, W_WALK for the page walker's entries. */
enum { W_PHYS = 0, W_WALK = 1 };

/* Point window w at host frame pfn; returns the monitor's pointer to it. */
static uint8_t *window(unsigned w, uint32_t pfn)
{
    uint32_t off = MON_OFF_WINDOWS + w * PAGE_SIZE;
    pae_entry_t want = ((pae_entry_t)pfn << PAGE_SHIFT) | PTE_P | PTE_W;
    volatile pae_entry_t *pte = &region_pt[off >> PAGE_SHIFT];
    if (*pte != want) {
        *pte = want;
        __asm__ volatile("invlpg (%0)" :: "r"(off) : "memory");
    }
    return (uint8_t *)off;
}

unsigned glin_acc(void)
{
    if (vcpu.cpl == 3) return ACC_USER;
    /* AC matters only to SMAP: without it, the guest's flags are not looked at. */
    if (!(vcpu.cr4 & CR4_SMAP)) return 0;
    return (GUEST_FRAME->eflags & EFL_AC) ? ACC_AC : 0;
}

unsigned glin_fetch_acc(void) { return vcpu.cpl == 3 ? ACC_USER : ACC_AC; }

bool gpa_is_ram(uint32_t gpa) { return (gpa >> PAGE_SHIFT) < shared->guest_pages; }
bool gpa_is_device(uint32_t gpa)
{
    uint32_t page = gpa & ~(PAGE_SIZE - 1);
    return page == LAPIC_BASE || page == IOAPIC_BASE;
}

uint32_t gpa_frame(uint32_t gpa) { return gft[gpa >> PAGE_SHIFT] & GFT_FRAME; }

/* Copy within one guest-physical page: to_guest picks the direction. */
static void gpa_copy_page(uint32_t gpa, void *buf, uint32_t n, bool to_guest, unsigned w)
{
    if (!gpa_is_ram(gpa)) {
        if (!to_guest) memset(buf, 0xff, n);
        return;
    }
    uint8_t *p = window(w, gpa_frame(gpa)) + (gpa & (PAGE_SIZE - 1));
    if (to_guest) memcpy(p, buf, n);
    else memcpy(buf, p, n);
}

/* Copy n bytes of guest-physical memory, a page at a time. */
static void gpa_copy(uint32_t gpa, void *buf, uint32_t n, bool to_guest)
{
    uint8_t *b = buf;
    while (n) {
        uint32_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > n) chunk = n;
        gpa_copy_page(gpa, b, chunk, to_guest, W_PHYS);
        gpa += chunk; b += chunk; n -= chunk;
    }
}

void gpa_read(uint32_t gpa, void *buf, uint32_t n) { gpa_copy(gpa, buf, n, false); }
void gpa_write(uint32_t gpa, const void *buf, uint32_t n) { gpa_copy(gpa, (void *)buf, n, true); }

uint32_t gpa_read32(uint32_t gpa)
{
    uint32_t v;
    gpa_copy_page(gpa, &v, 4, false, W_WALK);
    return v;
}

const uint32_t *gpa_words(uint32_t gpa)
{
    /* A hole reads as all ones, as gpa_read32 would read it word by word. */
    return (const uint32_t *)window(W_WALK, gpa_is_ram(gpa) ? gpa_frame(gpa) : shared->ones_frame);
}

void gpa_write32(uint32_t gpa, uint32_t v)
{
    gpa_copy_page(gpa, &v, 4, true, W_WALK);
}

/* Copy n bytes at guest-linear va, translating each page as the guest's MMU would. */
static uint32_t glin_copy(uint32_t va, void *buf, uint32_t n, unsigned acc, uint32_t *fault_va, bool to_guest)
{
    struct gmode m = { vcpu.cr0, vcpu.cr3, vcpu.cr4 };
    uint8_t *b = buf;
    /* Translate every page first, so that a fault leaves guest memory untouched. */
    for (uint32_t done = 0; done < n;) {
        struct gtrans t;
        uint32_t a = va + done;
        uint32_t e = stlb_walk(&m, a, acc, &t);
        if (e) { *fault_va = a; return e; }
        uint32_t chunk = PAGE_SIZE - (a & (PAGE_SIZE - 1));
        done += chunk;
    }
    for (uint32_t done = 0; done < n;) {
        struct gtrans t;
        uint32_t a = va + done;
        stlb_walk(&m, a, acc, &t);
        uint32_t chunk = PAGE_SIZE - (a & (PAGE_SIZE - 1));
        if (chunk > n - done) chunk = n - done;
        gpa_copy_page(t.gpa, b + done, chunk, to_guest, W_PHYS);
        if (to_guest && gpa_is_ram(t.gpa)) pt_guest_written(t.gpa, chunk);
        done += chunk;
    }
    return 0;
}

uint32_t glin_read(uint32_t va, void *buf, uint32_t n, unsigned acc, uint32_t *fault_va)
{
    return glin_copy(va, buf, n, acc, fault_va, false);
}

uint32_t glin_write(uint32_t va, const void *buf, uint32_t n, unsigned acc, uint32_t *fault_va)
{
    return glin_copy(va, (void *)buf, n, acc | ACC_WRITE, fault_va, true);
}

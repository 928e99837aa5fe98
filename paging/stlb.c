/* The monitor's software TLB. A cached translation is used only for an access it already
 * allowed once: same or fewer rights, and for a write only once D is set, so the guest's A and
 * D bits come out exactly as the walk would leave them. It is flushed wherever the guest's
 * own TLB would be, and more often (any write to a shadowed table), never less. */
#include "paging/stlb.h"
#include "monitor/gmem.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

#define STLB_SIZE 64u

static struct stlb_entry {
    uint32_t vpage;          /* va >> 12, plus one: 0 is empty */
    uint32_t gpage;          /* guest-physical page */
    bool write_ok, user_ok, dirty, large;
} cache[STLB_SIZE];
static uint32_t own_hits, own_misses, *hits = &own_hits, *misses = &own_misses;

void stlb_init(uint32_t *h, uint32_t *m)
{
    hits = h;
    misses = m;
    stlb_flush();
}

void stlb_flush(void)
{
    for (unsigned i = 0; i < STLB_SIZE; i++) cache[i].vpage = 0;
}

void stlb_counts(uint32_t *h, uint32_t *m) { *h = *hits; *m = *misses; }

/* Does a cached entry allow access acc with mode m, as the walk would without changing bits? */
static bool covers(const struct stlb_entry *e, const struct gmode *m, unsigned acc)
{
    if ((acc & ACC_USER) && !e->user_ok) return false;
    /* A supervisor access to a user page, as the walk's rules (gwalk.c): SMEP, SMAP. */
    if ((m->cr4 & (CR4_SMEP | CR4_SMAP)) && e->user_ok && !(acc & ACC_USER) &&
        ((acc & ACC_FETCH) ? (m->cr4 & CR4_SMEP) : (m->cr4 & CR4_SMAP) && !(acc & ACC_AC))) return false;
    if (!(acc & ACC_WRITE)) return true;
    if (!e->dirty) return false;
    return e->write_ok || (!(acc & ACC_USER) && !(m->cr0 & CR0_WP));
}

uint32_t stlb_walk(const struct gmode *m, uint32_t va, unsigned acc, struct gtrans *t)
{
    if (!(m->cr0 & CR0_PG)) return guest_walk(m, va, acc, t);
    struct stlb_entry *e = &cache[(va >> PAGE_SHIFT) % STLB_SIZE];
    if (e->vpage == (va >> PAGE_SHIFT) + 1 && covers(e, m, acc)) {
        (*hits)++;
        *t = (struct gtrans){ .gpa = (e->gpage << PAGE_SHIFT) | (va & (PAGE_SIZE - 1)), .write_ok = e->write_ok,
                              .user_ok = e->user_ok, .dirty = e->dirty, .large = e->large };
        return 0;
    }
    (*misses)++;
    uint32_t r = guest_walk(m, va, acc, t);
    if (!r) *e = (struct stlb_entry){ (va >> PAGE_SHIFT) + 1, t->gpa >> PAGE_SHIFT, t->write_ok, t->user_ok, t->dirty, t->large };
    return r;
}

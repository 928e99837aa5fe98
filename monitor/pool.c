/* The monitor's end of its page pool: a stack of free slots, refilled at suspensions. */
#include "monitor/pool.h"
#include "monitor/mon.h"
#include "arch/x86/mmu.h"

#define region_pt ((volatile pae_entry_t *)MON_OFF_PT)
static int16_t free_slot[MON_POOL_SLOTS];
static unsigned nfree;
static bool asked;

void pool_init(void)
{
    nfree = 0;
    /* Slots 0-4 hold the first shadow root; the rest of the initial fill is free. */
    for (uint32_t s = shared->pool_initial; s-- > 5;) free_slot[nfree++] = (int16_t)s;
}

int pool_get(void)
{
    return nfree ? free_slot[--nfree] : POOL_NONE;
}

void pool_put(int slot)
{
    if (nfree < MON_POOL_SLOTS) free_slot[nfree++] = (int16_t)slot;
}

uint32_t pool_frame(int slot)
{
    return (uint32_t)((region_pt[(MON_OFF_POOL >> PAGE_SHIFT) + (uint32_t)slot] & PAE_ADDR_MASK) >> PAGE_SHIFT);
}

unsigned pool_free_count(void) { return nfree; }

void pool_add(uint32_t first, uint32_t count)
{
    for (uint32_t s = first; s < first + count && s < MON_POOL_SLOTS; s++)
        if (region_pt[(MON_OFF_POOL >> PAGE_SHIFT) + s] & PTE_P) pool_put((int)s);
    asked = false;
}

void pool_shrink(uint32_t n)
{
    while (n-- && nfree > 0 && !ring_full(&ring->to_host)) {
        struct msg m = { .type = MSG_PAGES_BACK, .a = { (uint32_t)free_slot[--nfree] } };
        ring_put(&ring->to_host, &m);
    }
}

void pool_maybe_ask(void)
{
    if (nfree < shared->pool_min && !asked && !ring_full(&ring->to_host)) {
        struct msg m = { .type = MSG_PAGES_WANTED, .a = { shared->pool_max - nfree } };
        ring_put(&ring->to_host, &m);
        asked = true;
    } else if (nfree > shared->pool_max) {
        pool_shrink(nfree - shared->pool_max);
    }
}

void pool_wait(void)
{
    asked = false;          /* ask now, whatever was said before */
    suspend(0, 0, 0);
}

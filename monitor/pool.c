/* The monitor's end of its page pool: a stack of free slots, refilled at suspensions. */
#include "monitor/pool.h"
#include "monitor/mon.h"
#include "arch/x86/mmu.h"

#define region_pt ((volatile pae_entry_t *)MON_OFF_PT)
static int16_t free_slot[MON_POOL_SLOTS];
static unsigned nfree;
static bool asked, refused, may_retry;
static unsigned retries;       /* refills refused in a row while others were asked to shrink */
static unsigned need;         /* pages the work in hand needs free, beyond the minimum */

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

void pool_add(uint32_t first, uint32_t count, bool others_asked)
{
    for (uint32_t s = first; s < first + count && s < MON_POOL_SLOTS; s++)
        if (region_pt[(MON_OFF_POOL >> PAGE_SHIFT) + s] & PTE_P) pool_put((int)s);
    asked = false;
    refused = count == 0;
    may_retry = others_asked;
    if (count) retries = 0;
}

void pool_shrink(uint32_t n)
{
    /* Up to five slots a message, and two ring slots always left for the suspension's own
     * request and a refill: the rest goes back at the next suspension. */
    while (n && nfree > 0 && ring_count(&ring->to_host) < RING_SLOTS - 2) {
        struct msg m = { .type = MSG_PAGES_BACK };
        while (n && nfree > 0 && m.a[0] < RING_ARGS - 1) {
            m.a[1 + m.a[0]++] = (uint32_t)free_slot[--nfree];
            n--;
        }
        ring_put(&ring->to_host, &m);
    }
}

void pool_maybe_ask(void)
{
    unsigned low = need > shared->pool_min ? need : shared->pool_min;
    unsigned high = need > shared->pool_max ? need : shared->pool_max;
    if (nfree >= need) need = 0;
    if (nfree < low && !asked && !ring_full(&ring->to_host)) {
        struct msg m = { .type = MSG_PAGES_WANTED, .a = { high - nfree } };
        ring_put(&ring->to_host, &m);
        asked = true;
    } else if (nfree > shared->pool_max) {
        pool_shrink(nfree - shared->pool_max);
    }
}

void pool_wait_for(unsigned n)
{
    /* The host is short but asked the other VMs for pages: let them run, then ask again. */
    if (refused && nfree < n && may_retry && retries < POOL_RETRIES) { retries++; refused = false; }
    if (refused && nfree < n)
        guest_stop(STOP_UNSUPPORTED, "the monitor needs %u free pool pages and has %u; the host has no "
                   "more memory (or the pool no more slots) to give this VM", n, nfree);
    asked = false;          /* ask now, whatever was said before */
    need = n;
    suspend(0, 0, 0);
}

void pool_wait(void) { pool_wait_for(1); }

bool pool_refused(void) { return refused; }

/* The monitor's end of its page pool: slots in the monitor region backed by host frames. */
#ifndef MONITOR_POOL_H
#define MONITOR_POOL_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

#define POOL_NONE (-1)
/* Take the free slots the supervisor backed before the first entry. */
void pool_init(void);
/* A free slot, or POOL_NONE (the caller suspends for more). */
int pool_get(void);
/* Give slot back to the free list. */
void pool_put(int slot);
/* The monitor's pointer to a slot's page. */
#ifdef UMBRA_HOST_TEST
void *pool_ptr(int slot);
#else
static inline void *pool_ptr(int slot) { return (void *)(MON_OFF_POOL + (uint32_t)slot * 4096u); }
#endif
/* The host frame number behind a slot (read from the region's own page table). */
uint32_t pool_frame(int slot);
/* Free slots now. */
unsigned pool_free_count(void);
/* MSG_PAGES: slots first..first+count-1 are now backed; others_asked: the host was short and
 * asked other VMs to shrink, so asking again later may succeed. */
void pool_add(uint32_t first, uint32_t count, bool others_asked);
/* Refills refused in a row (while others shrink) before the guest is stopped. */
#define POOL_RETRIES 1000u
/* MSG_SHRINK: hand back up to n free slots. */
void pool_shrink(uint32_t n);
/* At a suspension: ask for a refill below the minimum, hand back above the maximum. */
void pool_maybe_ask(void);
/* Suspend until the supervisor has refilled the pool, then retry the guest instruction. */
__attribute__((noreturn)) void pool_wait(void);
/* Did the supervisor's last answer to a refill give nothing? */
bool pool_refused(void);
/* The same, asking for at least n free pages; stops the guest when the host said it has none. */
__attribute__((noreturn)) void pool_wait_for(unsigned n);

#endif

/* The monitor's software TLB: guest-linear to guest-physical translations for its own
 * accesses to guest memory (instruction fetch, emulation, exception frames). */
#ifndef PAGING_STLB_H
#define PAGING_STLB_H
#include <stdint.h>
#include "paging/gwalk.h"

/* Translate va for an access of kind acc as guest_walk does (A/D set, exact #PF error code),
 * from the cache when a cached translation already allows that access. */
uint32_t stlb_walk(const struct gmode *m, uint32_t va, unsigned acc, struct gtrans *t);
/* Start empty, counting hits and misses in *hits and *misses. */
void stlb_init(uint32_t *hits, uint32_t *misses);
/* Forget every translation (CR3 write, INVLPG, a write to a guest table, a mode change). */
void stlb_flush(void);
/* Hits and misses so far. */
void stlb_counts(uint32_t *hits, uint32_t *misses);

#endif

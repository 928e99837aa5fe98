/* The host's address space: PAE page tables that identity-map usable RAM below 4 GiB. */
#ifndef SUPERVISOR_HOSTMAP_H
#define SUPERVISOR_HOSTMAP_H
#include <stdint.h>
#include "arch/x86/mmu.h"

extern uint32_t host_cr3;

/* Build the identity map from the frame map and turn paging on. */
void hostmap_init(void);
/* Map one 4 KiB page va -> pa with PTE flags (splitting a large page if needed). */
void hostmap_map(uint32_t va, uint64_t pa, uint64_t flags);
/* Identity-map a device's registers uncached. */
void hostmap_mmio(uint32_t pa, uint32_t size);

#endif

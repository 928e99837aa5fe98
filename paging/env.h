/* What the shadow engine needs from where it runs: the monitor, or the host unit tests. */
#ifndef PAGING_ENV_H
#define PAGING_ENV_H
#include <stdint.h>

/* Flush the real TLB (every shadow translation): reload CR3. */
void env_tlb_flush(void);
/* Load the real CR3 (a shadow root for the guest's current view). */
void env_load_cr3(uint32_t cr3);
/* The guest frame table word of guest frame gfn: the host frame in GFT_FRAME, the engine's
 * bits (GFT_TABLE, GFT_MANY, GFT_HINT) above it. */
uint32_t env_gft(uint32_t gfn);
void env_gft_set(uint32_t gfn, uint32_t word);
/* Guest RAM, in pages from guest-physical 0. */
uint32_t env_guest_pages(void);

/* Scan-before-execute (monitor/code.c): the guest wrote bytes first..last of code page `slot`'s
 * guest frame (an SP_CODE copy); is host frame pfn a guest page that has a copy? */
void env_code_written(int slot, uint32_t first, uint32_t last);
bool env_code_source(uint32_t pfn);
#endif

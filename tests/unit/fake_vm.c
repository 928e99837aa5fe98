/* A fake VM for the host unit tests (see fake_vm.h). */
#include "tests/unit/fake_vm.h"
#include "monitor/gmem.h"
#include "monitor/pool.h"
#include "paging/env.h"
#include "monitor/layout.h"
#include <stdlib.h>
#include <string.h>

uint32_t fake_mem[FAKE_MEM / 4];
unsigned fake_tlb_flushes;
static uint32_t gft[FAKE_MEM / 4096];
static uint64_t *pages[MON_POOL_SLOTS];
static int16_t free_slots[MON_POOL_SLOTS];
static unsigned nfree, backed;

uint32_t gpa_read32(uint32_t gpa) { return gpa < FAKE_MEM ? fake_mem[gpa / 4] : 0xffffffffu; }
void gpa_write32(uint32_t gpa, uint32_t v) { if (gpa < FAKE_MEM) fake_mem[gpa / 4] = v; }
bool gpa_is_ram(uint32_t gpa) { return gpa < FAKE_MEM; }
const uint32_t *gpa_words(uint32_t gpa)
{
    static uint32_t ones[1024];
    if (gpa >= FAKE_MEM) { memset(ones, 0xff, sizeof ones); return ones; }
    return &fake_mem[(gpa & ~0xfffu) / 4];
}
uint32_t gpa_frame(uint32_t gpa) { return gft[gpa >> 12] & GFT_FRAME; }

uint32_t env_gft(uint32_t gfn) { return gft[gfn]; }
void env_gft_set(uint32_t gfn, uint32_t w) { gft[gfn] = w; }
uint32_t env_guest_pages(void) { return FAKE_MEM / 4096; }
void env_tlb_flush(void) { fake_tlb_flushes++; }
/* Code copies in the unit tests: only what a test says (fake_code_src, the writes seen). */
uint32_t fake_code_src, fake_code_writes;
void env_code_written(int slot, uint32_t first, uint32_t last) { (void)slot; (void)first; (void)last; fake_code_writes++; }
bool env_code_source(uint32_t pfn) { return fake_code_src && pfn == fake_code_src; }
void env_load_cr3(uint32_t cr3) { (void)cr3; fake_tlb_flushes++; }

void fake_vm_reset(unsigned slots)
{
    memset(fake_mem, 0, sizeof fake_mem);
    for (uint32_t g = 0; g < FAKE_MEM / 4096; g++) gft[g] = FAKE_GUEST_BASE + g;
    for (unsigned s = 0; s < MON_POOL_SLOTS; s++) {
        if (!pages[s]) pages[s] = aligned_alloc(4096, 4096);
        memset(pages[s], 0x5a, 4096);            /* garbage: a new shadow page must be cleared */
    }
    nfree = 0;
    for (unsigned s = slots; s-- > 0;) free_slots[nfree++] = (int16_t)s;
    backed = slots;
    fake_tlb_flushes = 0;
}

unsigned fake_pool_backed(void) { return backed; }

uint64_t *fake_pool_page(uint32_t pfn)
{
    return pfn >= FAKE_POOL_BASE && pfn < FAKE_POOL_BASE + MON_POOL_SLOTS ? pages[pfn - FAKE_POOL_BASE] : 0;
}

void *pool_ptr(int slot) { return pages[slot]; }
int pool_get(void) { return nfree ? free_slots[--nfree] : POOL_NONE; }
void pool_put(int slot) { free_slots[nfree++] = (int16_t)slot; }
uint32_t pool_frame(int slot) { return FAKE_POOL_BASE + (uint32_t)slot; }
unsigned pool_free_count(void) { return nfree; }

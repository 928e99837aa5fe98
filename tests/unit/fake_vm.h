/* A fake VM for host unit tests: guest-physical memory, its frame table, a page pool with
 * real pages behind its slots, and the engine's hooks into the hardware. */
#ifndef TESTS_UNIT_FAKE_VM_H
#define TESTS_UNIT_FAKE_VM_H
#include <stdint.h>
#include <stdbool.h>

#define FAKE_MEM        (16u << 20)           /* guest RAM */
#define FAKE_GUEST_BASE 0x10000u              /* host frame of guest frame 0 */
#define FAKE_POOL_BASE  0x80000u              /* host frame of pool slot 0 */
#define FAKE_ONES       0x7ffffu              /* host frame of the page of ones */

extern uint32_t fake_mem[FAKE_MEM / 4];
extern unsigned fake_tlb_flushes;

/* Reset the fake: memory zeroed, frame table fresh, pool with `slots` free slots. */
void fake_vm_reset(unsigned slots);
/* The pool's page for a host frame (shadow pages), or NULL. */
uint64_t *fake_pool_page(uint32_t pfn);
/* Slots backed in the pool (free or in use). */
unsigned fake_pool_backed(void);

/* The host frame the engine is told has a code copy (0: none); code-page writes it reported. */
extern uint32_t fake_code_src, fake_code_writes;
#endif

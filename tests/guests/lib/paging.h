/* The guest test library's paging helpers: 32-bit page tables built from a frame allocator,
 * INVLPG, and access probes that report the #PF they take (error code, CR2, EIP). */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H
#include "tests/guests/lib/guest.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

/* Entry, control-register and error-code bits come from arch/x86/ (named once). */
#define PAGE PAGE_SIZE
#define PD_INDEX(va) ((uint32_t)(va) >> 22)
#define PT_INDEX(va) (((uint32_t)(va) >> 12) & 0x3ffu)

/* Frames come from physical [lo, hi), which must be identity-mapped (or paging off) when a
 * frame is handed out: pg_frame zeroes it. */
void pg_frames(uint32_t lo, uint32_t hi);
/* A zeroed frame's physical address; stops the guest when none is left. */
uint32_t pg_frame(void);
/* A zeroed page directory (a frame). */
uint32_t *pg_dir(void);
/* The PTE slot for va in pd; with pde_flags non-zero a missing table is made with those
 * PDE flags, otherwise NULL when the PDE is not present. */
uint32_t *pg_slot(uint32_t *pd, uint32_t va, uint32_t pde_flags);
/* Map the page at va to physical pa with PTE flags (a table made as PTE_P|PTE_W|PTE_U). */
void pg_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags);
/* Identity-map [0, bytes) with 4 KiB pages and these PTE flags. */
void pg_identity(uint32_t *pd, uint32_t bytes, uint32_t flags);
/* Load pd into CR3 and turn paging on with CR0.WP set. */
void pg_enable(uint32_t *pd);

static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void cr3_reload(void) { wr_cr3(rd_cr3()); }
static inline uint32_t peek(uint32_t va) { return *(volatile uint32_t *)va; }
static inline void poke(uint32_t va, uint32_t v) { *(volatile uint32_t *)va = v; }

/* The page faults the probes took. The library's #PF handler (pg_catch) records each one
 * and resumes after the probe's two-byte instruction; a #PF anywhere else stops the guest. */
struct pg_fault { unsigned count; uint32_t error, cr2, eip, cs; };
extern volatile struct pg_fault pgf;
/* Install that handler on vector 14. */
void pg_catch(void);
/* The start every paging guest makes: its tables and IDT, the probes' #PF handler, frames
 * from 4 MiB to 16 MiB, and a directory identity-mapping the first 16 MiB with `flags`. */
uint32_t *pg_setup(uint32_t flags);
/* Result of a probe: PG_OK, or PG_FAULT | the #PF error code (CR2 in pgf.cr2). */
#define PG_OK    0u
#define PG_FAULT 0x80000000u
/* Read the dword at va into *v (untouched on a fault). Callable from ring 3. */
uint32_t pg_read(uint32_t va, uint32_t *v);
/* Write v to the dword at va. Callable from ring 3. */
uint32_t pg_write(uint32_t va, uint32_t v);
/* Read (or write v to) the dword at va from ring 3: PG_OK with the value read in *out, or
 * PG_FAULT | the error code. */
uint32_t pg_user(uint32_t va, bool write, uint32_t v, uint32_t *out);
/* Where the probe instructions are (the EIP a fault reports). */
extern char pg_read_at[], pg_write_at[];

/* A small deterministic PRNG (xorshift32); never seed it with 0. */
static inline uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x;
}

#endif

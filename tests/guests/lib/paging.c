/* The guest test library's paging helpers: a bump allocator of zeroed frames, a tiny 32-bit
 * page-table builder, and probes whose page faults are caught and reported exactly. */
#include "tests/guests/lib/paging.h"

static uint32_t next_frame, frames_end;

void pg_frames(uint32_t lo, uint32_t hi)
{
    next_frame = (lo + PAGE - 1) & PT32_ADDR_MASK;
    frames_end = hi & PT32_ADDR_MASK;
}

uint32_t pg_frame(void)
{
    if (next_frame >= frames_end) {
        gprintf("paging library: out of frames\n");
        gexit(98);
    }
    uint32_t f = next_frame;
    next_frame += PAGE;
    memset((void *)f, 0, PAGE);
    return f;
}

uint32_t *pg_dir(void) { return (uint32_t *)pg_frame(); }

uint32_t *pg_slot(uint32_t *pd, uint32_t va, uint32_t pde_flags)
{
    uint32_t *pde = &pd[PD_INDEX(va)];
    if (!(*pde & PTE_P)) {
        if (!pde_flags) return 0;
        *pde = pg_frame() | pde_flags;
    }
    return &((uint32_t *)(*pde & PT32_ADDR_MASK))[PT_INDEX(va)];
}

void pg_map(uint32_t *pd, uint32_t va, uint32_t pa, uint32_t flags)
{
    *pg_slot(pd, va, PTE_P | PTE_W | PTE_U) = (pa & PT32_ADDR_MASK) | flags;
}

void pg_identity(uint32_t *pd, uint32_t bytes, uint32_t flags)
{
    for (uint32_t a = 0; a < bytes; a += PAGE) pg_map(pd, a, a, flags);
}

void pg_enable(uint32_t *pd)
{
    wr_cr3((uint32_t)pd);
    wr_cr0(rd_cr0() | CR0_PG | CR0_WP);
}

volatile struct pg_fault pgf;

/* #PF: record it and step over the probe; any other faulting EIP is a failure of the test. */
static void pf_handler(struct gframe *f)
{
    if (f->eip != (uint32_t)pg_read_at && f->eip != (uint32_t)pg_write_at) {
        gprintf("unexpected page fault at %x error %x cr2 %x\n", f->eip, f->error, rd_cr2());
        gexit(99);
    }
    pgf.count++;
    pgf.error = f->error;
    pgf.cr2 = rd_cr2();
    pgf.eip = f->eip;
    pgf.cs = f->cs;
    f->eip += 2;
}

void pg_catch(void) { set_handler(14, pf_handler, 0, false); }

/* The probes: one two-byte instruction each (8b 01, 89 01), at a known address. */
__attribute__((noinline, noclone)) uint32_t pg_read(uint32_t va, uint32_t *v)
{
    unsigned before = pgf.count;
    uint32_t x;
    __asm__ volatile(".globl pg_read_at\npg_read_at: mov (%%ecx), %%eax" : "=a"(x) : "c"(va), "0"(0) : "memory");
    if (pgf.count != before) return PG_FAULT | pgf.error;
    *v = x;
    return PG_OK;
}

__attribute__((noinline, noclone)) uint32_t pg_write(uint32_t va, uint32_t v)
{
    unsigned before = pgf.count;
    __asm__ volatile(".globl pg_write_at\npg_write_at: mov %%eax, (%%ecx)" :: "a"(v), "c"(va) : "memory");
    return pgf.count != before ? PG_FAULT | pgf.error : PG_OK;
}

/* ---- probes from ring 3 ---- */
static volatile uint32_t u_va, u_val, u_res, u_out;
static volatile bool u_write;

static void user_probe(void)
{
    uint32_t v = 0;
    u_res = u_write ? pg_write(u_va, u_val) : pg_read(u_va, &v);
    u_out = v;
    RING0_RETURN();
}

uint32_t pg_user(uint32_t va, bool write, uint32_t v, uint32_t *out)
{
    u_va = va; u_write = write; u_val = v;
    run_user(user_probe);
    *out = u_out;
    return u_res;
}

uint32_t *pg_setup(uint32_t flags)
{
    tables_init();
    pg_catch();
    pg_frames(0x400000, 0x1000000);
    uint32_t *pd = pg_dir();
    pg_identity(pd, 0x1000000, flags);
    return pd;
}

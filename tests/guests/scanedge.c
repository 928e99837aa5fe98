/* The edges of scan-before-execute (found in review): an instruction that runs into a page
 * that is absent until its #PF handler maps it; the next page's bytes rewritten under an
 * instruction that straddles into it; overlapping instructions, one of them a POPF; a code page
 * remapped after a data write beside its code (emulated, and x87 which the emulator may not
 * know). Natively and in umbra the results must be the same. */
#include "tests/guests/lib/paging.h"

#define VA_A 0x40400000u     /* page 0 present; page 1 absent at first */
#define VA_B 0x40406000u     /* two present pages; page 1's first byte rewritten */

static uint32_t *pd;
static volatile uint32_t nfaults, fcr2, feip, ferr, map_pa;

/* #PF: map the faulting page to map_pa and retry. */
static void pf_map(struct gframe *f)
{
    nfaults++;
    fcr2 = rd_cr2();
    feip = f->eip;
    ferr = f->error;
    *pg_slot(pd, fcr2, PTE_P | PTE_W) = map_pa | PTE_P | PTE_W;
    invlpg(fcr2);
}

static uint32_t call_at(uint32_t va) { return ((uint32_t (*volatile)(void))va)(); }

/* POPF at `at` with flags v on the stack (through a JMP, so the return address stays below). */
static uint32_t popf_at(uint32_t at, uint32_t v)
{
    uint32_t r;
    __asm__ volatile("cli; push $1f; push %2; jmp *%1\n1:" : "=a"(r) : "r"(at), "r"(v) : "memory", "cc");
    __asm__ volatile("cli");
    return r;
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    /* Part C sets IF with POPF: the firmware's timer (IRQ0, vector 8 on a BIOS's PIC) must not
     * come in then. */
    pic_mask(0xffff);
    pd = pg_setup(PTE_P | PTE_W | PTE_U);
    set_handler(14, pf_map, 0, false);
    pg_enable(pd);

    /* A: mov $0x12345678,%eax (b8 78 56 | 34 12) across into an absent page, then ret. */
    uint32_t a0 = pg_frame(), a1 = pg_frame();
    static const uint8_t a_lo[] = { 0xb8, 0x78, 0x56 }, a_hi[] = { 0x34, 0x12, 0xc3 };
    __builtin_memcpy((uint8_t *)a0 + 4093, a_lo, 3);
    __builtin_memcpy((uint8_t *)a1, a_hi, 3);
    pg_map(pd, VA_A, a0, PTE_P | PTE_W);
    *pg_slot(pd, VA_A + 0x1000, PTE_P | PTE_W) = 0;
    invlpg(VA_A + 0x1000);
    map_pa = a1;
    uint32_t r = call_at(VA_A + 4093);
    check_eq(nfaults, 1, "A: one #PF for the absent second page");
    check_eq(fcr2, VA_A + 0x1000, "A: CR2 is the second page");
    check_eq(feip, VA_A + 4093, "A: EIP is the instruction's start");
    check_eq(ferr, 0, "A: error code");
    check_eq(r, 0x12345678u, "A: the instruction across into the page mapped by the handler ran whole");

    /* B: 8c | d8 c3 (mov %ds,%eax; ret), then the second page's byte becomes c8 (mov %cs,%eax). */
    uint32_t b0 = pg_frame(), b1 = pg_frame();
    ((uint8_t *)b0)[4095] = 0x8c;
    ((uint8_t *)b1)[0] = 0xd8;
    ((uint8_t *)b1)[1] = 0xc3;
    pg_map(pd, VA_B, b0, PTE_P | PTE_W);
    pg_map(pd, VA_B + 0x1000, b1, PTE_P | PTE_W);
    r = call_at(VA_B + 4095);
    check_eq(r & 0xffff, KDS, "B: mov %ds across a page end");
    *(volatile uint8_t *)(VA_B + 0x1000) = 0xc8;
    r = call_at(VA_B + 4095);
    check_eq(r & 0xffff, KCS, "B: after the next page's byte is rewritten: mov %cs across a page end");

    /* C: b0 9d 9c 58 c3 at k: `mov $0x9d,%al; pushf; pop %eax; ret`; at k+1: `popf; pushf;
     * pop %eax; ret`. Run the POPF entry, then the MOV entry, then the POPF entry again. */
    uint32_t c0 = pg_frame();
    static const uint8_t c_code[] = { 0xb0, 0x9d, 0x9c, 0x58, 0xc3 };
    __builtin_memcpy((uint8_t *)c0 + 0x100, c_code, sizeof c_code);
    r = popf_at(c0 + 0x101, 0x202);
    check_eq(r & EFL_IF, EFL_IF, "C: POPF sets IF (first run)");
    call_at(c0 + 0x100);
    r = popf_at(c0 + 0x101, 0x202);
    check_eq(r & EFL_IF, EFL_IF, "C: POPF sets IF after an overlapping entry was scanned");

    /* D: code and data in one page; a data write there; then the page is remapped. */
    uint32_t d1 = pg_frame(), d2 = pg_frame();
    static const uint8_t d_one[] = { 0xb8, 1, 0, 0, 0, 0xc3 }, d_two[] = { 0xb8, 2, 0, 0, 0, 0xc3 };
    __builtin_memcpy((uint8_t *)d1, d_one, 6);
    __builtin_memcpy((uint8_t *)d2, d_two, 6);
#define VA_D 0x3f0000u
    pg_map(pd, VA_D, d1, PTE_P | PTE_W);
    check_eq(call_at(VA_D), 1, "D: frame 1's code");
    poke(VA_D + 0x800, 0x55aa);

    *pg_slot(pd, VA_D, 0) = d2 | PTE_P | PTE_W;
    invlpg(VA_D);
    check_eq(call_at(VA_D), 2, "D: remapped to frame 2 after INVLPG: the new code runs");

    /* E: as D, but the data write is an x87 store (FNSTCW), which the write emulator may not know. */
    uint32_t e1 = pg_frame(), e2 = pg_frame();
    __builtin_memcpy((uint8_t *)e1, d_one, 6);
    __builtin_memcpy((uint8_t *)e2, d_two, 6);
#define VA_E 0x3e0000u
    pg_map(pd, VA_E, e1, PTE_P | PTE_W);
    check_eq(call_at(VA_E), 1, "E: frame 1's code");
    __asm__ volatile("fnstcw (%0)" :: "r"(VA_E + 0x800) : "memory");
    *pg_slot(pd, VA_E, 0) = e2 | PTE_P | PTE_W;
    invlpg(VA_E);
    check_eq(call_at(VA_E), 2, "E: remapped to frame 2 after INVLPG: the new code runs");

    return summary("scanedge");
}

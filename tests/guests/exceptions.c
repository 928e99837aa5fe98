/* Exceptions with exact frames: #DE, #UD, #BP, #OF, #GP with error code, #NP, #SS, #PF. */
#include "tests/guests/lib/guest.h"

extern char de_at[], ud_at[], bp_after[], of_after[], gp_at[], np_at[], pf_at[], pfw_at[];
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));

/* The frame of the last trap: vector, error code, EIP, CS, and EFLAGS' IF bit. */
static void frame_is(unsigned v, uint32_t err, void *eip, const char *what)
{
    check_eq(last.vector, v, "%s: vector", what);
    check_eq(last.error, err, "%s: error code", what);
    check_eq(last.eip, (uint32_t)eip, "%s: eip", what);
    check_eq(last.cs, KCS, "%s: cs", what);
    check_eq(last.eflags & 0x200, 0, "%s: IF as it was", what);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();

    expect_trap(0, 2);
    __asm__ volatile("xor %%ecx, %%ecx; mov $1, %%eax; xor %%edx, %%edx; de_at: div %%ecx" ::: "eax", "ecx", "edx");
    frame_is(0, 0, de_at, "divide error");

    expect_trap(6, 2);
    __asm__ volatile("ud_at: ud2");
    frame_is(6, 0, ud_at, "invalid opcode");

    expect_trap(3, 0);
    __asm__ volatile("int3; bp_after:");
    frame_is(3, 0, bp_after, "breakpoint (eip after int3)");

    expect_trap(4, 0);
    __asm__ volatile("mov $0x7fffffff, %%eax; add $1, %%eax; into; of_after:" ::: "eax", "cc");
    frame_is(4, 0, of_after, "overflow (eip after into)");
    check((last.eflags & 0x800) != 0, "overflow: OF set in the pushed flags");

    expect_trap(13, 2);
    __asm__ volatile("mov $0x3ff8, %%eax; gp_at: mov %%eax, %%ds" ::: "eax");
    __asm__ volatile("mov $0x10, %%eax; mov %%eax, %%ds" ::: "eax");
    frame_is(13, 0x3ff8, gp_at, "general protection on a selector past the GDT");

    /* A not-present data segment: copy the data descriptor, clear P. */
    static uint64_t gdt2[8];
    struct __attribute__((packed)) { uint16_t l; uint32_t b; } nw;
    memcpy(gdt2, guest_gdt(), 6 * 8);          /* not SGDT: it leaks on CPUs without UMIP */
    gdt2[6] = 0x00cf12000000ffffull;       /* data, DPL0, not present */
    nw.l = sizeof gdt2 - 1; nw.b = (uint32_t)gdt2;
    __asm__ volatile("lgdt %0" :: "m"(nw));
    expect_trap(11, 2);
    __asm__ volatile("mov $0x30, %%eax; np_at: mov %%eax, %%es" ::: "eax");
    __asm__ volatile("mov $0x10, %%eax; mov %%eax, %%es" ::: "eax");
    frame_is(11, 0x30, np_at, "segment not present");
    check_eq(traps_seen, 6, "six traps seen so far");

    /* Paging: identity 4 MiB via a table, page 0x3ff000 read-only, 0x3fe000 absent. */
    for (unsigned i = 0; i < 1024; i++) pt[i] = i << 12 | 3;
    pt[0x3ff] = 0x3ff000 | 1;
    pt[0x3fe] = 0;
    pd[0] = (uint32_t)pt | 3;
    wr_cr3((uint32_t)pd);
    wr_cr0(rd_cr0() | 0x80010000u);        /* PG, WP */
    expect_trap(14, 2);
    __asm__ volatile("pf_at: mov (%0), %%eax" :: "r"(0x3fe010) : "eax");
    frame_is(14, 0, pf_at, "page fault: read of a not-present page");
    check_eq(rd_cr2(), 0x3fe010, "page fault: cr2");
    expect_trap(14, 2);
    __asm__ volatile("pfw_at: mov %%eax, (%0)" :: "r"(0x3ff123) : "eax");
    frame_is(14, 2 | 1, pfw_at, "page fault: write to a read-only page with WP");
    check_eq(rd_cr2(), 0x3ff123, "page fault: cr2 of the write");
    /* With WP clear the kernel writes through read-only pages. */
    wr_cr0(rd_cr0() & ~0x10000u);
    *(volatile uint32_t *)0x3ff200 = 7;
    check_eq(*(volatile uint32_t *)0x3ff200, 7, "WP clear: kernel write to a read-only page");
    check((pt[0x3ff] & 0x60) == 0x60, "accessed and dirty bits set by the write");
    return summary("exceptions");
}

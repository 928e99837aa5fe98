/* Rings: IRET to ring 3, INT back through a DPL3 gate with the stack switch from the TSS,
 * INT to a DPL0 gate from ring 3, privileged instructions and I/O from ring 3, user page
 * faults, many round trips. */
#include "tests/guests/lib/guest.h"

static volatile uint32_t seen_esp, seen_ss, seen_cs, seen_kesp, calls;
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
extern char user_gp_at[], user_in_at[], user_int_at[], user_pf_at[];

/* INT 0x80 handler: where did the frame land, and what did it say? */
static void syscall(struct gframe *f)
{
    seen_esp = f->esp; seen_ss = f->ss; seen_cs = f->cs;
    seen_kesp = (uint32_t)f;
    calls++;
    f->eax = f->eax * 2;
}

static void user_syscall(void)
{
    uint32_t r = 21;
    __asm__ volatile("int $0x80" : "+a"(r));
    if (r == 42) __asm__ volatile("int $0x80" : "+a"(r));
    RING0_RETURN();
}

static void user_many(void)
{
    for (int i = 0; i < 1000; i++) { uint32_t r = 1; __asm__ volatile("int $0x80" : "+a"(r)); }
    RING0_RETURN();
}

static void user_int(void) { __asm__ volatile("user_int_at: int $0x82"); RING0_RETURN(); }   /* DPL0 gate */
static void user_cli(void) { __asm__ volatile("user_gp_at: cli; nop"); RING0_RETURN(); }
static void user_in(void) { __asm__ volatile("user_in_at: inb $0x60, %%al" ::: "eax"); RING0_RETURN(); }
static void user_pf(void) { __asm__ volatile("user_pf_at: movl $1, 0x200000"); RING0_RETURN(); }  /* supervisor page */

/* Run fn in ring 3 and check the one fault it takes. */
static void one_fault(void (*fn)(void), unsigned v, uint32_t err, void *eip, const char *what)
{
    traps_seen = 0;
    run_user(fn);
    check_eq(traps_seen, 1, "%s: one fault", what);
    check_eq(last.vector, v, "%s: vector", what);
    check_eq(last.error, err, "%s: error code", what);
    check_eq(last.eip, (uint32_t)eip, "%s: eip", what);
    check_eq(last.cs, UCS, "%s: cs", what);
    check_eq(last.ss, UDS, "%s: ss", what);
}

static void user_flags(void)
{
    uint32_t f;
    __asm__ volatile("pushf; pop %0" : "=r"(f));
    __asm__ volatile("mov %0, %%eax; int $0x80" :: "r"(f) : "eax");
    RING0_RETURN();
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    set_handler(0x80, syscall, 3, false);

    run_user(user_syscall);
    check_eq(calls, 2, "two system calls from ring 3");
    check_eq(seen_cs, UCS, "frame: user CS");
    check_eq(seen_ss, UDS, "frame: user SS");
    check(seen_esp != 0 && seen_esp < 0x200000, "frame: user ESP pushed");
    check_eq(seen_kesp + sizeof(struct gframe), gtss.esp0, "stack switched to the TSS's ESP0");

    calls = 0;
    run_user(user_many);
    check_eq(calls, 1000, "a thousand round trips");

    calls = 0;
    run_user_lret(user_syscall);
    check_eq(calls, 2, "ring 3 entered by a far return");

    /* A far return within ring 0, releasing 8 bytes of parameters. */
    uint32_t before, after;
    __asm__ volatile("mov %%esp, %0; push $1; push $2; pushl $0x08; push $1f; lret $8; 1: mov %%esp, %1"
                     : "=&r"(before), "=&r"(after));
    check_eq(after, before, "far return with parameters: stack balanced");

    calls = 0;
    run_user(user_flags);
    check_eq(calls, 1, "pushf in ring 3");

    /* Faults from ring 3: identity map with the second 4 MiB... user pages up to 2 MiB. */
    for (unsigned i = 0; i < 1024; i++) pt[i] = i << 12 | (i < 512 ? 7 : 3);
    pd[0] = (uint32_t)pt | 7;
    wr_cr3((uint32_t)pd);
    wr_cr0(rd_cr0() | 0x80000000u);
    expect_trap(13, 2);
    expect_trap(14, 10);
    one_fault(user_int, 13, 0x82 * 8 + 2, user_int_at, "INT to a DPL0 gate");
    one_fault(user_cli, 13, 0, user_gp_at, "CLI in ring 3");
    one_fault(user_in, 13, 0, user_in_at, "IN in ring 3 with IOPL 0");
    one_fault(user_pf, 14, 7, user_pf_at, "write to a supervisor page");
    check_eq(rd_cr2(), 0x200000, "cr2");
    return summary("rings");
}

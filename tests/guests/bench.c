/* The benchmark guest: times operations with RDTSC and prints one line per benchmark,
 * "bench NAME OPS CYCLES" (lib/bench.h). The command line picks the benchmarks (only=NAME,NAME)
 * and the repetitions (n=N); tools/bench.py runs it natively and inside umbra. The address-space
 * workloads (fork, exec, ping-pong) are in bench_mm.c. */
#include "tests/guests/lib/bench.h"

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint32_t pts[4][1024] __attribute__((aligned(4096)));   /* 16 MiB identity in 4 KiB pages */
static uint32_t user_pt[1024] __attribute__((aligned(4096)));  /* 0x40000000: fresh pages */

static void nop_syscall(struct gframe *f) { (void)f; }
static void user_syscalls(void)
{
    for (unsigned i = 0; i < n; i++) __asm__ volatile("int $0x80" ::: "memory");
    RING0_RETURN();
}

static void user_touch(void)
{
    for (unsigned i = 0; i < n && i < 1024; i++) sink += *(volatile uint32_t *)(0x40000000 + i * 4096);
    RING0_RETURN();
}

/* Identity map the first 16 MiB with small pages; user pages at 0x40000000 absent. */
static void paging_on(void)
{
    for (unsigned t = 0; t < 4; t++) {
        for (unsigned i = 0; i < 1024; i++) pts[t][i] = (t * 1024 + i) << 12 | 7;
        pd[t] = (uint32_t)pts[t] | 7;
        pd2[t] = (uint32_t)pts[t] | 7;
    }
    pd[0x100] = (uint32_t)user_pt | 7;
    wr_cr3((uint32_t)pd);
    wr_cr0(rd_cr0() | 0x80000000u);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    bench_args(mbi);
    tables_init();
    set_handler(0x80, nop_syscall, 3, false);
    uint64_t t;

    if (wanted("compute")) {
        uint32_t x = 1;
        t = rdtsc();
        for (unsigned i = 0; i < n * 10; i++) x = x * 1103515245u + 12345u;
        sink = x;
        report("compute", n * 10, rdtsc() - t);
    }
    if (wanted("syscall")) {
        t = rdtsc();
        run_user(user_syscalls);
        report("syscall", n, rdtsc() - t);
    }
    if (wanted("cli_sti")) {
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) __asm__ volatile("cli; sti");
        __asm__ volatile("cli");
        report("cli_sti", n, rdtsc() - t);
    }
    if (wanted("port_read")) {
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) sink += inb(0x61);
        report("port_read", n, rdtsc() - t);
    }
    if (wanted("lapic_read")) {
        /* A local APIC register read (the TPR), as interrupt code does. */
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) sink += *(volatile uint32_t *)0xfee00080;
        report("lapic_read", n, rdtsc() - t);
    }
    if (wanted("lapic_eoi")) {
        /* An EOI with nothing in service: the write every interrupt handler ends with. */
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) *(volatile uint32_t *)0xfee000b0 = 0;
        report("lapic_eoi", n, rdtsc() - t);
    }
    paging_on();
    if (wanted("pgfault")) {
        /* First touches of fresh pages: map them one at a time, touch each once. */
        unsigned k = n < 1024 ? n : 1024;
        for (unsigned i = 0; i < 1024; i++) user_pt[i] = 0;
        t = rdtsc();
        for (unsigned i = 0; i < k; i++) {
            user_pt[i] = (0x800000 + i * 4096) | 7;
            sink += *(volatile uint32_t *)(0x40000000 + i * 4096);
        }
        report("pgfault", k, rdtsc() - t);
    }
    if (wanted("pgfault_user")) {
        unsigned k = n < 1024 ? n : 1024;
        for (unsigned i = 0; i < 1024; i++) user_pt[i] = (0xc00000 + i * 4096) | 7;
        wr_cr3((uint32_t)pd);                    /* forget the old translations */
        t = rdtsc();
        run_user(user_touch);
        report("pgfault_user", k, rdtsc() - t);
    }
    if (wanted("ptemod")) {
        /* Change a PTE, INVLPG it, use it. */
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) {
            user_pt[0] = (0x800000 + (i & 15) * 4096) | 7;
            __asm__ volatile("invlpg (%0)" :: "r"(0x40000000) : "memory");
            sink += *(volatile uint32_t *)0x40000000;
        }
        report("ptemod", n, rdtsc() - t);
    }
    if (wanted("invlpg")) {
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) __asm__ volatile("invlpg (%0)" :: "r"(0x100000) : "memory");
        report("invlpg", n, rdtsc() - t);
    }
    if (wanted("cr3_switch")) {
        t = rdtsc();
        for (unsigned i = 0; i < n; i++) {
            wr_cr3((uint32_t)(i & 1 ? pd : pd2));
            sink += *(volatile uint32_t *)0x100000;
        }
        report("cr3_switch", n, rdtsc() - t);
    }
    gprintf("bench done\n");
    return 0;
}

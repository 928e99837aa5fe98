/* Privileged instructions round trip: control registers, descriptor tables, task register,
 * CLTS/LMSW/SMSW, INVLPG, WBINVD, SYSENTER MSRs, a missing MSR, CPUID, RDTSC. */
#include "tests/guests/lib/guest.h"

extern char rdmsr_at[];
static void user_rdmsr(void) { __asm__ volatile("rdmsr_at: rdmsr" :: "c"(0x174) : "eax", "edx"); RING0_RETURN(); }

/* Ring 3 reads of GDTR, IDTR, LDTR, TR and CR0, all to one place (resumed past each if they
 * fault: 3 bytes each). */
extern char user_stores_at[];
static struct __attribute__((packed)) { uint16_t l; uint32_t b; } user_gdtr;
static void user_stores(void)
{
    __asm__ volatile("user_stores_at: sgdt (%0); sidt (%0); sldt (%0); str (%0); smsw (%0)"
                     :: "r"(&user_gdtr) : "memory");
    RING0_RETURN();
}

static uint64_t rdmsr(uint32_t m) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m)); return (uint64_t)hi << 32 | lo; }
static void wrmsr(uint32_t m, uint64_t v) { __asm__ volatile("wrmsr" :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    check_eq(rd_cr0() & 0x80000001u, 1, "CR0: protected mode, paging off at entry");
    tables_init();

    struct __attribute__((packed)) { uint16_t l; uint32_t b; } g, i;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
    check_eq(g.l, 6 * 8 - 1, "SGDT limit after LGDT");
    check_eq(i.l, 256 * 8 - 1, "SIDT limit after LIDT");
    uint16_t tr = 0, ldt = 0xffff;
    __asm__ volatile("str %0; sldt %1" : "=r"(tr), "=r"(ldt));
    check_eq(tr, TSS_SEL, "STR after LTR");
    check_eq(ldt, 0, "SLDT: no LDT");
    __asm__ volatile("lldt %w0" :: "r"(0));

    /* CR2 and CR4 read back what was written. */
    __asm__ volatile("mov %0, %%cr2" :: "r"(0x12345000u));
    check_eq(rd_cr2(), 0x12345000u, "CR2 round trip");
    wr_cr4(rd_cr4() | 0x10);
    check_eq(rd_cr4() & 0x10, 0x10, "CR4.PSE set");
    wr_cr4(rd_cr4() & ~0x10u);
    check_eq(rd_cr4() & 0x10, 0, "CR4.PSE clear");

    /* TS: set by LMSW, read by SMSW, cleared by CLTS. */
    uint32_t msw;
    __asm__ volatile("smsw %0" : "=r"(msw));
    __asm__ volatile("lmsw %w0" :: "r"(msw | 8));
    check_eq(rd_cr0() & 8, 8, "LMSW sets TS");
    expect_trap(7, 2);
    traps_seen = 0;
    __asm__ volatile("fninit");
    check_eq(traps_seen, 1, "an x87 instruction with TS set raises #NM");
    check_eq(last.vector, 7, "#NM");
    __asm__ volatile("clts");
    check_eq(rd_cr0() & 8, 0, "CLTS clears TS");
    traps_seen = 0;
    __asm__ volatile("fninit");
    check_eq(traps_seen, 0, "and the FPU works after CLTS");
    __asm__ volatile("smsw %0" : "=r"(msw));
    check_eq(msw & 1, 1, "SMSW shows PE");

    /* Paging on and off again through CR0 and CR3, with INVLPG in between. */
    static uint32_t pd[1024] __attribute__((aligned(4096)));
    for (unsigned k = 0; k < 16; k++) pd[k] = k << 22 | 0x83;
    wr_cr4(rd_cr4() | 0x10);
    wr_cr3((uint32_t)pd);
    check_eq(rd_cr3(), (uint32_t)pd, "CR3 round trip");
    wr_cr0(rd_cr0() | 0x80000000u);
    check_eq(rd_cr0() >> 31, 1, "paging on");
    __asm__ volatile("invlpg (%0)" :: "r"(0x100000) : "memory");
    __asm__ volatile("wbinvd");
    wr_cr0(rd_cr0() & ~0x80000000u);
    check_eq(rd_cr0() >> 31, 0, "paging off again");

    /* MSRs. */
    wrmsr(0x174, 0x08); wrmsr(0x175, 0x1234); wrmsr(0x176, 0x5678);
    check_eq((uint32_t)rdmsr(0x174), 0x08, "SYSENTER_CS round trip");
    check_eq((uint32_t)rdmsr(0x175), 0x1234, "SYSENTER_ESP round trip");
    check_eq((uint32_t)rdmsr(0x176), 0x5678, "SYSENTER_EIP round trip");
    /* RDMSR from ring 3 faults. (An MSR the CPU lacks raises #GP on hardware and in umbra,
     * but QEMU's TCG reads it as 0, so that case is not compared here.) */
    expect_trap(13, 2);
    traps_seen = 0;
    run_user(user_rdmsr);
    check_eq(traps_seen, 1, "RDMSR in ring 3 faults");
    check_eq(last.error, 0, "with #GP(0)");
    check_eq(last.eip, (uint32_t)rdmsr_at, "at the RDMSR");

    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
    check(a >= 1, "CPUID leaf 0");

    /* CR4.UMIP, where the CPU has it: ring 3 may no longer read the table registers or CR0. */
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    if (c & 4) {
        expect_trap(13, 3);
        traps_seen = 0;
        run_user(user_stores);
        check_eq(traps_seen, 0, "ring 3 SGDT, SIDT, SLDT, STR, SMSW without UMIP");
        /* All five wrote to one place: SIDT's base is left above SMSW's CR0 bits. */
        check_eq(user_gdtr.l, rd_cr0() & 0xffff, "ring 3 SMSW reads the guest's CR0");
        check_eq(user_gdtr.b, i.b, "ring 3 SIDT reads the guest's IDT base");
        wr_cr4(rd_cr4() | 0x800);
        check_eq(rd_cr4() & 0x800, 0x800, "CR4.UMIP set");
        traps_seen = 0;
        run_user(user_stores);
        check_eq(traps_seen, 5, "with UMIP each of the five faults in ring 3");
        check_eq(last.vector, 13, "with #GP");
        check_eq(last.error, 0, "#GP(0)");
        check_eq(last.eip, (uint32_t)user_stores_at + 12, "the last at SMSW");
        __asm__ volatile("sgdt %0" : "=m"(g));
        check_eq(g.l, 6 * 8 - 1, "ring 0 SGDT under UMIP");
        wr_cr4(rd_cr4() & ~0x800u);
    } else {
        gprintf("no UMIP on this CPU\n");
    }
    uint32_t lo1, hi1, lo2, hi2;
    __asm__ volatile("rdtsc" : "=a"(lo1), "=d"(hi1));
    __asm__ volatile("rdtsc" : "=a"(lo2), "=d"(hi2));
    check(((uint64_t)hi2 << 32 | lo2) > ((uint64_t)hi1 << 32 | lo1), "RDTSC moves forward");
    return summary("priv");
}

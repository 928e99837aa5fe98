/* cpu_smap: CR4.SMAP. The guest kernel's data accesses to user pages fault unless EFLAGS.AC is
 * set (STAC). (umbra once kept the bit without checking it: its kernel view mapped user pages
 * whatever AC said.) */
#include "rt.h"

static u32 pd[1024] __attribute__((aligned(4096)));
static void rd(void *p) { (void)*(volatile u32 *)p; }
static void wr(void *p) { *(volatile u32 *)p = 1; }

void tests(void)
{
    u32 r7[4];
    cpuid(7, 0, r7);
    say("cpu_smap: supervisor-mode access prevention\n");
    if (!(r7[1] & (1u << 20))) { say("no smap\n"); return; }
    for (unsigned i = 0; i < 1024; i++) pd[i] = i < 4 ? (i << 22) | 0x83 : 0;
    pd[2] |= 0x04;                                   /* 8 MiB: a user page */
    wr_cr3((u32)pd);
    wr_cr4(rd_cr4() | (1u << 4));
    wr_cr0(rd_cr0() | (1u << 31));
    expect_trap("no smap: read a user page", try_call(rd, (void *)0x00800000), -1, 0);
    wr_cr4(rd_cr4() | (1u << 21));
    expect_trap("smap: read a user page", try_call(rd, (void *)0x00800000), 14, 0x01);
    expect_trap("smap: write a user page", try_call(wr, (void *)0x00800000), 14, 0x03);
    __asm__ volatile(".byte 0x0f, 0x01, 0xcb" ::: "memory");        /* STAC */
    expect_trap("smap, ac: read a user page", try_call(rd, (void *)0x00800000), -1, 0);
    __asm__ volatile(".byte 0x0f, 0x01, 0xca" ::: "memory");        /* CLAC */
    expect_trap("smap: read a supervisor page", try_call(rd, (void *)0x00400000), -1, 0);
    wr_cr4(rd_cr4() & ~(1u << 21));
    wr_cr0(rd_cr0() & ~(1u << 31));
    wr_cr3(0);
}

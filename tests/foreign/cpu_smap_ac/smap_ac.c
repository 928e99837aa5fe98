/* cpu_smap_ac: CR4.SMAP from every side a kernel meets it. How EFLAGS.AC gets set and cleared
 * (STAC/CLAC, POPF, IRET, an interrupt keeping it, user mode's own AC carried into the kernel by
 * an INT), user pages behind 4 MiB pages and behind page tables (a user table entry under a
 * supervisor directory entry is a supervisor page), CR0.WP, CR4.SMAP and CR3 changing under a
 * clear AC, and the accesses an instruction makes for the kernel: SGDT, LGDT, STR, SMSW and INS
 * on a user page, POPF and an interrupt's frame on a stack in a user page with AC set.
 *
 * Left out on purpose: a fault whose delivery has to push onto a stack in a user page with AC
 * clear (the #PF becomes #DF, whose push faults again: a triple fault), and the implicit
 * accesses of descriptor-table loads with AC set (the SDM refuses them whatever AC says; QEMU's
 * TCG lets them through at CPL 0 when AC is set). */
#include "rt.h"

#define AC        (1u << 18)
#define UPAGE     0x00800000u          /* 8-12 MiB: a 4 MiB user page, writable */
#define ROPAGE    0x00c00000u          /* 12-16 MiB: a 4 MiB user page, read-only */
#define TPAGES    0x01000000u          /* 16-20 MiB: a table, under a user directory entry */
#define TPAGES_S  0x01400000u          /* 20-24 MiB: the same table, under a supervisor one */
#define PORT_IMR  0x21                 /* the master 8259's mask: reading it changes nothing */

static u32 pd[1024] __attribute__((aligned(4096)));
static u32 pd2[1024] __attribute__((aligned(4096)));
static u32 pt[1024] __attribute__((aligned(4096)));
static volatile u32 sink;

static inline void stac(void) { __asm__ volatile(".byte 0x0f, 0x01, 0xcb" ::: "memory", "cc"); }
static inline void clac(void) { __asm__ volatile(".byte 0x0f, 0x01, 0xca" ::: "memory", "cc"); }
static inline u32 eflags(void) { u32 f; __asm__ volatile("pushfl; popl %0" : "=r"(f)); return f; }
static u32 ac(void) { return eflags() & AC ? 1 : 0; }

static void rd(void *p) { sink = *(volatile u32 *)p; }
static void wr(void *p) { *(volatile u32 *)p = 0x5a5a0000u | ((u32)p & 0xffff); }

/* A read of p with whatever AC the caller has: "ok", or the #PF and its error code. */
static void probe(const char *what, u32 p, int want_vec, u32 want_err)
{
    expect_trap(what, try_call(rd, (void *)p), want_vec, want_err);
    if (want_vec == 14) expect("cr2", last.cr2, p);
}

/* ---- how AC is set and cleared ---- */

static void popf_ac(bool on)
{
    u32 f = on ? eflags() | AC : eflags() & ~AC;
    __asm__ volatile("pushl %0; popfl" :: "r"(f) : "memory", "cc");
}

static void iret_ac(bool on)
{
    u32 f = on ? eflags() | AC : eflags() & ~AC;
    __asm__ volatile("pushl %0; pushl %1; pushl $1f; iretl; 1:" :: "r"(f), "i"(K_CS) : "memory", "cc");
}

/* INT 0x81 (a DPL 3 trap gate): its handler reads the user page at the AC the event left. */
static u32 h81_ac, h81_cpl_from;
static int h81(struct frame *f)
{
    h81_ac = ac();
    h81_cpl_from = f->cs & 3;
    sink = *(volatile u32 *)(UPAGE + 0x100);
    return 1;
}
static void int81(void *unused) { (void)unused; __asm__ volatile("int $0x81" ::: "memory"); }

/* Ring 3 at UPAGE (code copied there) on a stack at its end, with EFLAGS e. */
static const u8 user_code[] = { 0xcd, 0x81, 0xcd, 0x80, 0xeb, 0xfe };   /* int 0x81; int 0x80; jmp $ */
static void to_user(void *e)
{
    __asm__ volatile("pushl $0x23; pushl %1; pushl %2; pushl $0x1b; pushl %0; iretl"
                     :: "r"(UPAGE), "r"(UPAGE + 0x1000), "r"((u32)e) : "memory");
}

static void ac_sources(void)
{
    say("-- where AC comes from\n");
    clac();
    probe("clac", UPAGE, 14, 0x1);
    stac();
    probe("stac", UPAGE, -1, 0);
    clac();
    probe("clac after a read with AC (the translation it left)", UPAGE, 14, 0x1);
    popf_ac(true);
    say("popf sets AC: %u\n", ac());
    probe("popf ac=1", UPAGE, -1, 0);
    popf_ac(false);
    probe("popf ac=0", UPAGE, 14, 0x1);
    iret_ac(true);
    say("iret sets AC: %u\n", ac());
    probe("iret ac=1", UPAGE, -1, 0);
    iret_ac(false);
    probe("iret ac=0", UPAGE, 14, 0x1);

    set_handler(0x81, h81);
    idt_gate(0x81, stub_table[0x81], K_CS, 0xef);
    stac();
    expect_trap("int in the kernel, ac=1: its handler reads", try_call(int81, 0), -1, 0);
    say("  the handler's AC %u\n", h81_ac);
    clac();
    expect_trap("int in the kernel, ac=0: its handler reads", try_call(int81, 0), 14, 0x1);

    /* User mode's AC rides into the kernel with the INT (nothing clears it). */
    stac();
    for (unsigned i = 0; i < sizeof user_code; i++) ((volatile u8 *)UPAGE)[i] = user_code[i];
    clac();
    expect_trap("ring 3 with ac=1, int 0x81", try_call(to_user, (void *)(0x002 | AC)), 0x80, 0);
    say("  the handler's AC %u, from CPL %u\n", h81_ac, h81_cpl_from);
    expect_trap("ring 3 with ac=0, int 0x81", try_call(to_user, (void *)0x002), 14, 0x1);
    clac();
}

/* ---- pages ---- */

static void pages(void)
{
    say("-- pages\n");
    clac();
    probe("4 KiB user page", TPAGES, 14, 0x1);
    probe("4 KiB supervisor page, neighbour of user pages", TPAGES + 0x1000, -1, 0);
    probe("4 KiB user page after its neighbour", TPAGES + 0x2000, 14, 0x1);
    probe("user table entry under a supervisor directory entry", TPAGES_S, -1, 0);
    probe("and its neighbour", TPAGES_S + 0x2000, -1, 0);
    expect_trap("write a 4 KiB user page", try_call(wr, (void *)(TPAGES + 0x3000)), 14, 0x3);
    stac();
    probe("4 KiB user page, ac=1", TPAGES, -1, 0);
    clac();
    probe("4 KiB user page, ac=0 again", TPAGES, 14, 0x1);

    /* Read-only user page: AC lets the write through only where CR0.WP does. */
    stac();
    expect_trap("ac=1, wp=1: write a read-only user page", try_call(wr, (void *)ROPAGE), 14, 0x3);
    wr_cr0(rd_cr0() & ~(1u << 16));
    expect_trap("ac=1, wp=0: write a read-only user page", try_call(wr, (void *)ROPAGE), -1, 0);
    clac();
    expect_trap("ac=0, wp=0: write a read-only user page", try_call(wr, (void *)(ROPAGE + 4)), 14, 0x3);
    wr_cr0(rd_cr0() | (1u << 16));
    stac();
    say("written with wp=0: %x %x\n", *(volatile u32 *)ROPAGE, *(volatile u32 *)(ROPAGE + 4));
    clac();
}

/* ---- CR4 and CR3 under a clear AC ---- */

static void control(void)
{
    say("-- CR4.SMAP and CR3 with AC clear\n");
    clac();
    wr_cr4(rd_cr4() & ~(1u << 21));
    probe("smap off", UPAGE, -1, 0);
    wr_cr4(rd_cr4() | (1u << 21));
    probe("smap on again", UPAGE, 14, 0x1);
    wr_cr3((u32)pd2);
    probe("another directory", UPAGE, 14, 0x1);
    probe("another directory, a supervisor page", 0x00400000, -1, 0);
    stac();
    probe("another directory, ac=1", UPAGE, -1, 0);
    clac();
    wr_cr3((u32)pd);
    probe("back", UPAGE, 14, 0x1);
}

/* ---- what instructions access for the kernel ---- */

static struct __attribute__((packed)) { u16 limit; u32 base; } gdtr_k;
static void sgdt_at(void *p) { __asm__ volatile("sgdt (%0)" :: "r"(p) : "memory"); }
static void lgdt_at(void *p) { __asm__ volatile("lgdt (%0)" :: "r"(p) : "memory"); }
static void str_at(void *p) { __asm__ volatile("str (%0)" :: "r"(p) : "memory"); }
static void smsw_at(void *p) { __asm__ volatile("smsw (%0)" :: "r"(p) : "memory"); }
static void ins_at(void *p)
{
    __asm__ volatile("cld; rep insb" : "+D"(p) : "c"(4), "d"(PORT_IMR) : "memory");
}

/* POPF with ESP in the user page (AC set: the pop is an explicit access); the flags popped
 * there clear AC. */
static u32 saved_esp;
static void popf_on_user_stack(void *unused)
{
    (void)unused;
    *(volatile u32 *)(UPAGE + 0x2fc) = eflags() & ~AC;
    __asm__ volatile("movl %%esp, %0; movl %1, %%esp; popfl; movl %0, %%esp"
                     : "=m"(saved_esp) : "i"(UPAGE + 0x2fc) : "memory", "cc");
}

/* INT 0x82 at CPL 0 with ESP in the user page and AC set: the frame is pushed there (explicit
 * supervisor accesses) and IRET pops it. */
static u32 h82_esp;
static int h82(struct frame *f) { h82_esp = (u32)&f->eflags + 4; return 1; }
static void int_on_user_stack(void *unused)
{
    (void)unused;
    __asm__ volatile("movl %%esp, %0; movl %1, %%esp; int $0x82; movl %0, %%esp"
                     : "=m"(saved_esp) : "i"(UPAGE + 0x800) : "memory");
}

static void instructions(void)
{
    say("-- instructions on a user page\n");
    sgdt_at(&gdtr_k);
    clac();
    expect_trap("sgdt, ac=0", try_call(sgdt_at, (void *)(UPAGE + 0x200)), 14, 0x3);
    stac();
    expect_trap("sgdt, ac=1", try_call(sgdt_at, (void *)(UPAGE + 0x200)), -1, 0);
    expect("sgdt stored", *(volatile u32 *)(UPAGE + 0x202), gdtr_k.base);
    clac();
    expect_trap("lgdt, ac=0", try_call(lgdt_at, (void *)(UPAGE + 0x200)), 14, 0x1);
    stac();
    expect_trap("lgdt, ac=1", try_call(lgdt_at, (void *)(UPAGE + 0x200)), -1, 0);
    clac();
    expect_trap("str, ac=0", try_call(str_at, (void *)(UPAGE + 0x210)), 14, 0x3);
    expect_trap("smsw, ac=0", try_call(smsw_at, (void *)(UPAGE + 0x214)), 14, 0x3);
    expect_trap("ins, ac=0", try_call(ins_at, (void *)(UPAGE + 0x220)), 14, 0x3);
    stac();
    expect_trap("str, ac=1", try_call(str_at, (void *)(UPAGE + 0x210)), -1, 0);
    expect("str stored", *(volatile u16 *)(UPAGE + 0x210), TSS_SEL);
    expect_trap("ins, ac=1", try_call(ins_at, (void *)(UPAGE + 0x220)), -1, 0);
    expect_trap("popf from a stack in the user page, ac=1", try_call(popf_on_user_stack, 0), -1, 0);
    say("  AC after it %u\n", ac());
    probe("  and so a read", UPAGE, 14, 0x1);
    set_handler(0x82, h82);
    stac();
    expect_trap("int with its frame in the user page, ac=1", try_call(int_on_user_stack, 0), -1, 0);
    say("  the frame's top %x\n", h82_esp);
    clac();
}

void tests(void)
{
    u32 r7[4];
    cpuid(7, 0, r7);
    say("cpu_smap_ac: SMAP, EFLAGS.AC and the accesses made for the kernel\n");
    if (!(r7[1] & (1u << 20))) { say("no smap\n"); return; }
    for (unsigned i = 0; i < 1024; i++) pd[i] = i < 4 ? (i << 22) | 0x83 : 0;
    pd[2] |= 0x04;                                   /* 8 MiB: user */
    pd[3] = (3u << 22) | 0x85;                       /* 12 MiB: user, read-only */
    for (unsigned i = 0; i < 1024; i++)              /* user, supervisor, user, user...; A set */
        pt[i] = (0x01800000u + (i << 12)) | 0x23 | (i == 1 ? 0 : 0x04);
    pd[4] = (u32)pt | 0x27;                          /* 16 MiB: the table, user directory entry */
    pd[5] = (u32)pt | 0x23;                          /* 20 MiB: the table, supervisor entry */
    for (unsigned i = 0; i < 1024; i++) pd2[i] = pd[i];
    wr_cr3((u32)pd);
    wr_cr4(rd_cr4() | (1u << 4));
    wr_cr0(rd_cr0() | (1u << 31) | (1u << 16));
    wr_cr4(rd_cr4() | (1u << 21));
    ac_sources();
    pages();
    control();
    instructions();
    clac();
    wr_cr4(rd_cr4() & ~(1u << 21));
    wr_cr0(rd_cr0() & ~(1u << 31));
    wr_cr3(0);
}

/* cpu_seg: the descriptor-table registers (LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR), the
 * selector checks LAR/LSL/VERR/VERW over many kinds of descriptor from ring 0 and ring 3,
 * MOV and PUSH from CS and SS, and segments with a base, a limit, expand-down. */
#include "rt.h"

/* GDT slots this guest fills (selector = index * 8). */
enum {
    G_TSS2 = 6, G_LDT, G_CONF0, G_CONF3X, G_EXEC0, G_RO0, G_DOWN3, G_NP0, G_GATE3, G_TASKG,
    G_TSS16, G_BIG, G_BASE, G_LDT_NP, G_TSS_NP, G_DATA1, G_CODE16, G_LOW, G_LAST
};
#define SEL(i) ((u16)((i) * 8))

static u32 ldt[8 * 2] __attribute__((aligned(8)));
static u32 tss2[26];
static u8 window[4096] __attribute__((aligned(4096)));

static void ldt_set(unsigned i, u32 base, u32 limit, u8 access, u8 flags)
{
    ldt[i * 2] = (limit & 0xffff) | (base << 16);
    ldt[i * 2 + 1] = ((base >> 16) & 0xff) | ((u32)access << 8) | (limit & 0xf0000) |
                     ((u32)(flags & 0xf) << 20) | (base & 0xff000000u);
}

static void tables(void)
{
    gdt_set(G_TSS2, (u32)tss2, sizeof tss2 - 1, 0x89, 0);
    gdt_set(G_LDT, (u32)ldt, sizeof ldt - 1, 0x82, 0);
    gdt_set(G_CONF0, 0, 0xfffff, 0x9f, 0xc);          /* conforming, readable, DPL 0 */
    gdt_set(G_CONF3X, 0, 0xfffff, 0xfd, 0xc);         /* conforming, execute-only, DPL 3 */
    gdt_set(G_EXEC0, 0, 0xfffff, 0x99, 0xc);          /* execute-only, DPL 0 */
    gdt_set(G_RO0, 0, 0xfffff, 0x91, 0xc);            /* read-only data, DPL 0 */
    gdt_set(G_DOWN3, 0, 0x0fff, 0xf7, 0x4);           /* expand-down, writable, DPL 3, limit fff */
    gdt_set(G_NP0, 0, 0xfffff, 0x13, 0xc);            /* not present data */
    /* a call gate DPL 3 to K_CS:0x1234 and a task gate DPL 0 */
    gdt[G_GATE3 * 2] = (K_CS << 16) | 0x1234;
    gdt[G_GATE3 * 2 + 1] = 0x0000ec00;
    gdt[G_TASKG * 2] = (u32)SEL(G_TSS2) << 16;
    gdt[G_TASKG * 2 + 1] = 0x00008500;
    gdt_set(G_TSS16, (u32)tss2, 0x2b, 0x81, 0);        /* 16-bit TSS, available */
    gdt_set(G_BIG, 0x00400000, 0x00003, 0xf3, 0xc);   /* G=1 limit 3: 16 KiB, DPL 3 */
    gdt_set(G_BASE, (u32)window, 0x0fff, 0x93, 0x4);   /* base = the window page, limit fff */
    gdt_set(G_LDT_NP, (u32)ldt, sizeof ldt - 1, 0x02, 0);
    gdt_set(G_TSS_NP, (u32)tss2, sizeof tss2 - 1, 0x09, 0);
    gdt_set(G_DATA1, 0, 0xfffff, 0xb3, 0xc);          /* data DPL 1 */
    gdt_set(G_CODE16, 0, 0xffff, 0x9b, 0x0);          /* 16-bit code */
    gdt_set(G_LOW, 0x1000, 0x1fff, 0x93, 0x4);        /* base 0x1000, limit 0x1fff */
    ldt_set(0, 0, 0xfffff, 0x93, 0xc);                /* LDT 0x04: data DPL 0 */
    ldt_set(1, (u32)window, 0xfff, 0xf3, 0x4);        /* LDT 0x0c: data DPL 3 on the window */
    ldt_set(2, 0, 0xfffff, 0xfb, 0xc);                /* LDT 0x14: code DPL 3 */
}

/* ---- GDTR, IDTR ---- */

struct __attribute__((packed)) pseudo { u16 limit; u32 base; };
extern struct pseudo gdtr, idtr;
static struct pseudo got;
static void user_sgdt(void) { __asm__ volatile("sgdt %0" : "=m"(got)); user_exit(); }

static void table_registers(void)
{
    struct pseudo p = { 0, 0xffffffff };
    __asm__ volatile("sgdt %0" : "=m"(p));
    say("sgdt limit %x base %s\n", p.limit, p.base == (u32)gdt ? "gdt" : "other");
    __asm__ volatile("sidt %0" : "=m"(p));
    say("sidt limit %x base %s\n", p.limit, p.base == idtr.base ? "idt" : "other");
    /* A copy of the GDT above 16 MiB, loaded with a 32-bit and a 16-bit LGDT. */
    u32 *high = (u32 *)0x01800000;
    for (unsigned i = 0; i < 128; i++) high[i] = gdt[i];
    struct pseudo hp = { 0x3ff, (u32)high };
    __asm__ volatile("lgdt %0" :: "m"(hp));
    __asm__ volatile("sgdt %0" : "=m"(p));
    say("lgdt high: limit %x base %08x\n", p.limit, p.base);
    u8 raw[6] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
    __asm__ volatile("sgdtw %0" : "=m"(raw));
    say("16-bit sgdt %02x%02x %02x%02x%02x%02x\n", raw[1], raw[0], raw[5], raw[4], raw[3], raw[2]);
    u32 *mid = (u32 *)0x00c00000;
    for (unsigned i = 0; i < 128; i++) mid[i] = gdt[i];
    hp.base = 0x5ac00000u;                    /* a 16-bit LGDT takes 24 bits of base */
    __asm__ volatile("lgdtw %0" :: "m"(hp));
    __asm__ volatile("sgdt %0" : "=m"(p));
    say("16-bit lgdt: limit %x base %08x\n", p.limit, p.base);
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" :: "r"(K_DS));
    __asm__ volatile("lgdt %0" :: "m"(gdtr));
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" :: "r"(K_DS));
    struct pseudo ip = { 0x7ff, idtr.base | 0x33000000u };
    __asm__ volatile("lidtw %0" :: "m"(ip));
    __asm__ volatile("sidt %0" : "=m"(p));
    say("16-bit lidt: limit %x base %s\n", p.limit, p.base == idtr.base ? "idt" : "other");
    ip.limit = 0x37;
    ip.base = idtr.base;
    __asm__ volatile("lidt %0" :: "m"(ip));
    __asm__ volatile("sidt %0" : "=m"(p));
    say("lidt limit 37: limit %x\n", p.limit);
    __asm__ volatile("lidt %0" :: "m"(idtr));
    expect_trap("ring 3 sgdt", try_user(user_sgdt), 0x80, 0);
    say("ring 3 sgdt limit %x base %s\n", got.limit, got.base == (u32)gdt ? "gdt" : "other");
}

/* ---- LDTR, TR ---- */

static void do_lldt(void *p) { __asm__ volatile("lldt %w0" :: "r"((u32)p)); }
static void do_ltr(void *p) { __asm__ volatile("ltr %w0" :: "r"((u32)p)); }
static u32 rd_ldt_seg(u16 sel, u32 off)
{
    u32 v;
    __asm__ volatile("push %%fs\n\tmov %w1, %%fs\n\tmov %%fs:(%2), %0\n\tpop %%fs" : "=r"(v) : "r"(sel), "r"(off));
    return v;
}
static void user_lldt(void) { __asm__ volatile("lldt %w0" :: "r"(0)); user_exit(); }
static void user_ltr(void) { __asm__ volatile("ltr %w0" :: "r"(SEL(G_TSS2))); user_exit(); }

static u16 sldt(void) { u32 v = 0xffffffff; __asm__ volatile("sldt %0" : "+r"(v)); return (u16)v; }
static u32 str32(void) { u32 v = 0xffffffff; __asm__ volatile("str %0" : "+r"(v)); return v; }

static void ldtr_tr(void)
{
    u32 w = 0xffffffff;
    __asm__ volatile("sldt %0" : "+r"(w));
    say("initial sldt r32 %08x\n", w);
    u16 m = 0xeeee;
    __asm__ volatile("sldt %0" : "+m"(m));
    say("initial sldt m16 %04x\n", m);
    expect_trap("lldt", try_call(do_lldt, (void *)(u32)SEL(G_LDT)), -1, 0);
    say("sldt %04x\n", sldt());
    *(volatile u32 *)window = 0x600dcafe;
    say("through ldt 0x0c: %08x, ldt 0x04 at the window: %08x\n", rd_ldt_seg(0x0c, 0), rd_ldt_seg(0x04, (u32)window));
    expect_trap("lldt of a data descriptor", try_call(do_lldt, (void *)(u32)K_DS), 13, K_DS);
    expect_trap("lldt not present", try_call(do_lldt, (void *)(u32)SEL(G_LDT_NP)), 11, SEL(G_LDT_NP));
    expect_trap("lldt with ti", try_call(do_lldt, (void *)(u32)0x0c), 13, 0x0c);
    expect_trap("lldt beyond the gdt", try_call(do_lldt, (void *)(u32)0x3f8), 13, 0x3f8);
    say("sldt after the faults %04x\n", sldt());
    expect_trap("ring 3 lldt", try_user(user_lldt), 13, 0);
    expect_trap("lldt 0", try_call(do_lldt, (void *)0), -1, 0);
    say("sldt %04x\n", sldt());
    expect_trap("lldt 3 (null, rpl 3)", try_call(do_lldt, (void *)3), -1, 0);
    say("sldt %04x\n", sldt());

    say("str %08x\n", str32());
    say("tss descriptor type %x\n", (gdt[5 * 2 + 1] >> 8) & 0xf);
    expect_trap("ltr busy", try_call(do_ltr, (void *)(u32)TSS_SEL), 13, TSS_SEL);
    expect_trap("ltr data", try_call(do_ltr, (void *)(u32)K_DS), 13, K_DS);
    expect_trap("ltr not present", try_call(do_ltr, (void *)(u32)SEL(G_TSS_NP)), 11, SEL(G_TSS_NP));
    /* LTR of a null selector is #GP(0) by the SDM; QEMU's TCG loads it: not tried. */
    expect_trap("ltr ldt descriptor", try_call(do_ltr, (void *)(u32)SEL(G_LDT)), 13, SEL(G_LDT));
    expect_trap("ring 3 ltr", try_user(user_ltr), 13, 0);
    expect_trap("ltr tss2", try_call(do_ltr, (void *)(u32)SEL(G_TSS2)), -1, 0);
    say("str %08x, tss2 type %x, first tss type %x\n", str32(), (gdt[G_TSS2 * 2 + 1] >> 8) & 0xf, (gdt[5 * 2 + 1] >> 8) & 0xf);
    expect_trap("ltr 16-bit tss", try_call(do_ltr, (void *)(u32)SEL(G_TSS16)), -1, 0);
    say("str %08x, 16-bit tss type %x\n", str32(), (gdt[G_TSS16 * 2 + 1] >> 8) & 0xf);
    gdt[5 * 2 + 1] &= ~0x200u;                  /* the first TSS available again */
    expect_trap("ltr back", try_call(do_ltr, (void *)(u32)TSS_SEL), -1, 0);
    say("str %08x\n", str32());
}

/* ---- LAR, LSL, VERR, VERW ---- */

struct check { u32 lar, lsl; u8 lar_ok, lsl_ok, verr, verw; };
static struct check res[40];
static const u16 sels[] = {
    0x00, 0x03, K_CS, K_DS, K_DS | 3, U_CS, U_DS, TSS_SEL, SEL(G_TSS2), SEL(G_LDT), SEL(G_CONF0),
    SEL(G_CONF3X), SEL(G_EXEC0), SEL(G_RO0), SEL(G_DOWN3), SEL(G_NP0), SEL(G_GATE3), SEL(G_TASKG),
    SEL(G_TSS16), SEL(G_BIG), SEL(G_BASE), SEL(G_DATA1), SEL(G_DATA1) | 1, SEL(G_CODE16), 0x3f8, 0x04, 0x0f, 0x14, 0x1c,
};
#define NSELS (sizeof sels / sizeof sels[0])

static void run_checks(void)
{
    for (unsigned i = 0; i < NSELS; i++) {
        u32 s = sels[i], v = 0xdeadbeef, z;
        __asm__ volatile("lar %2, %0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"(s) : "cc");
        res[i].lar = v; res[i].lar_ok = (u8)z;
        v = 0xdeadbeef;
        __asm__ volatile("lsl %2, %0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"(s) : "cc");
        res[i].lsl = v; res[i].lsl_ok = (u8)z;
        __asm__ volatile("verr %w1\n\tsetz %b0" : "=q"(z) : "r"(s) : "cc");
        res[i].verr = (u8)z;
        __asm__ volatile("verw %w1\n\tsetz %b0" : "=q"(z) : "r"(s) : "cc");
        res[i].verw = (u8)z;
    }
}
static void user_checks(void) { run_checks(); user_exit(); }

/* Selectors of code and data descriptors with DPL below 3, and DPL 3 gates: umbra's real
 * descriptors for them differ, which its guest's user mode sees (tests/foreign-pending/cpu_seg_user). */
static bool kernel_only(u16 sel)
{
    static const u16 k[] = { K_CS, K_DS, K_DS | 3, SEL(G_CONF0), SEL(G_EXEC0), SEL(G_RO0), SEL(G_NP0),
                             SEL(G_GATE3), SEL(G_BASE), SEL(G_DATA1), SEL(G_DATA1) | 1, SEL(G_CODE16), 0x04 };
    for (unsigned i = 0; i < sizeof k / sizeof k[0]; i++) if (k[i] == sel) return true;
    return false;
}

static void print_checks(const char *ring)
{
    bool user = ring[5] == '3';
    for (unsigned i = 0; i < NSELS; i++)
        if (!user || !kernel_only(sels[i])) say("%s sel %04x: lar %u %08x lsl %u %08x verr %u verw %u\n", ring, sels[i], res[i].lar_ok, res[i].lar,
            res[i].lsl_ok, res[i].lsl, res[i].verr, res[i].verw);
}

static void selector_checks(void)
{
    __asm__ volatile("lldt %w0" :: "r"(SEL(G_LDT)));
    run_checks();
    print_checks("ring 0");
    expect_trap("ring 3 checks", try_user(user_checks), 0x80, 0);
    print_checks("ring 3");
    /* 16-bit forms keep the upper half of the destination. */
    u32 v = 0x12345678, z;
    __asm__ volatile("larw %w2, %w0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"((u32)K_DS) : "cc");
    say("16-bit lar of the kernel data: %u %08x\n", z, v);
    v = 0x12345678;
    __asm__ volatile("lslw %w2, %w0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"((u32)SEL(G_BIG)) : "cc");
    say("16-bit lsl of the big segment: %u %08x\n", z, v);
    __asm__ volatile("lldt %w0" :: "r"(0));
}

/* ---- MOV and PUSH from segment registers ---- */

static u32 segs[8];
static void read_segs(void)
{
    u32 a, b, c, d;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2\n\tmov %%es, %3" : "=r"(a), "=r"(b), "=r"(c), "=r"(d));
    segs[0] = a; segs[1] = b; segs[2] = c; segs[3] = d;
    __asm__ volatile("push %%cs\n\tpop %0\n\tpush %%ss\n\tpop %1" : "=r"(a), "=r"(b));
    segs[4] = a; segs[5] = b;
    u16 m = 0xbbbb;
    __asm__ volatile("movw %%cs, %0" : "=m"(m));
    segs[6] = m;
    a = 0xdddddddd;
    __asm__ volatile("movw %%ss, %w0" : "+r"(a));
    segs[7] = a;
}
static void user_segs(void) { read_segs(); user_exit(); }

static void segment_reads(void)
{
    read_segs();
    say("ring 0: cs %x ss %x ds %x es %x push cs %x push ss %x cs to m16 %x ss to r16 %08x\n",
        segs[0], segs[1], segs[2], segs[3], segs[4], segs[5], segs[6], segs[7]);
    expect("ring 0 cs", segs[0], K_CS);
    expect("ring 0 ss", segs[1], K_DS);
    expect_trap("ring 3 segment reads", try_user(user_segs), 0x80, 0);
    say("ring 3: cs %x ss %x ds %x es %x push cs %x push ss %x cs to m16 %x ss to r16 %08x\n",
        segs[0], segs[1], segs[2], segs[3], segs[4], segs[5], segs[6], segs[7]);
}

/* ---- segments with a base and a limit ---- */

static u32 seg_read(u16 sel, u32 off)
{
    u32 v;
    __asm__ volatile("push %%gs\n\tmov %w1, %%gs\n\tmov %%gs:(%2), %0\n\tpop %%gs" : "=r"(v) : "r"(sel), "r"(off));
    return v;
}
struct acc { u16 sel; u32 off; };
static void seg_read_p(void *p) { struct acc *a = p; (void)seg_read(a->sel, a->off); }
static void load_ds(void *p) { __asm__ volatile("push %%ds\n\tmov %w0, %%ds\n\tpop %%ds" :: "r"((u32)p)); }
static void load_ss(void *p) { __asm__ volatile("mov %%ss, %%ecx\n\tmov %w0, %%ss\n\tmov %%ecx, %%ss" :: "r"((u32)p) : "ecx"); }
static u32 user_sel;
static void user_load_es(void) { __asm__ volatile("mov %w0, %%es" :: "r"(user_sel)); user_exit(); }
static void ss_base_push(void *p)
{
    (void)p;
    /* SS based at the window: a push at ESP 0x100 writes window[0xfc]. */
    __asm__ volatile("mov %%ss, %%ecx\n\tmov %%esp, %%edx\n\t"
                     "mov %w0, %%ss\n\tmov $0x100, %%esp\n\tpushl $0x5eed5eed\n\t"
                     "mov %%ecx, %%ss\n\tmov %%edx, %%esp" :: "r"((u32)SEL(G_BASE)) : "ecx", "edx", "memory");
}

static void based_segments(void)
{
    for (unsigned i = 0; i < 1024; i++) ((volatile u32 *)window)[i] = 0x1000u + i;
    say("window through its segment: [0] %x [ffc] %x\n", seg_read(SEL(G_BASE), 0), seg_read(SEL(G_BASE), 0xffc));
    volatile u32 *low = (volatile u32 *)0x1000;
    for (unsigned i = 0; i < 2048; i++) low[i] = 0xb0000000u + i * 4;
    say("base 0x1000: [0] %x [4] %x [1ffc] %x\n", seg_read(SEL(G_LOW), 0), seg_read(SEL(G_LOW), 4),
        seg_read(SEL(G_LOW), 0x1ffc));
    {
        u32 v;
        __asm__ volatile("push %%es\n\tmov %w1, %%es\n\tmovl $0x12345678, %%es:0x10\n\tmov %%es:0x10, %0\n\tpop %%es"
                         : "=r"(v) : "r"((u32)SEL(G_LOW)) : "memory");
        say("written through es:10 %x, seen at 0x1010 %x\n", v, low[4]);
    }
    /* Limit checks (a read across or past a limit, below an expand-down limit, a push past
     * SS's limit) and a read through a null DS are #GP or #SS by the SDM, but QEMU's TCG
     * checks no segment limit on data accesses: not tried. */
    struct acc a = { SEL(G_DOWN3) | 3, 0x00100000 };
    expect_trap("expand-down above its limit", try_call(seg_read_p, &a), -1, 0);
    a.sel = SEL(G_CONF0); a.off = (u32)window;
    expect_trap("read through readable conforming code", try_call(seg_read_p, &a), -1, 0);
    expect_trap("ss based push", try_call(ss_base_push, 0), -1, 0);
    say("pushed into the window: %08x\n", ((volatile u32 *)window)[0x3f]);

    expect_trap("ds execute-only code", try_call(load_ds, (void *)(u32)SEL(G_EXEC0)), 13, SEL(G_EXEC0));
    expect_trap("ds not present", try_call(load_ds, (void *)(u32)SEL(G_NP0)), 11, SEL(G_NP0));
    expect_trap("ds tss", try_call(load_ds, (void *)(u32)SEL(G_TSS2)), 13, SEL(G_TSS2));
    expect_trap("ds beyond the gdt", try_call(load_ds, (void *)0x3f8), 13, 0x3f8);
    expect_trap("ds dpl 1 data rpl 1", try_call(load_ds, (void *)(u32)(SEL(G_DATA1) | 1)), -1, 0);
    expect_trap("ds null", try_call(load_ds, (void *)3), -1, 0);
    expect_trap("ss read-only data", try_call(load_ss, (void *)(u32)SEL(G_RO0)), 13, SEL(G_RO0));
    expect_trap("ss dpl 3 data", try_call(load_ss, (void *)(u32)U_DS), 13, U_DS & ~3u);
    expect_trap("ss null", try_call(load_ss, (void *)0), 13, 0);
    expect_trap("ss not present", try_call(load_ss, (void *)(u32)SEL(G_NP0)), 12, SEL(G_NP0));
    /* Loading a DPL 0 or 1 data selector in ring 3 (#GP) is in tests/foreign-pending/cpu_seg_user. */
    user_sel = SEL(G_CONF0) | 3;
    expect_trap("ring 3 es conforming dpl 0 code", try_user(user_load_es), 0x80, 0);
    user_sel = SEL(G_DOWN3) | 3;
    expect_trap("ring 3 es dpl 3 data", try_user(user_load_es), 0x80, 0);
    /* That a load sets the accessed bit in memory is in tests/foreign-pending/cpu_seg_user. */
}

void tests(void)
{
    say("cpu_seg: descriptor tables, selector checks, segment registers\n");
    tables();
    table_registers();
    ldtr_tr();
    selector_checks();
    segment_reads();
    based_segments();
}

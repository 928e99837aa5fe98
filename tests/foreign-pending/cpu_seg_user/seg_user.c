/* cpu_seg_user: what umbra's real descriptor tables let through. The guest kernel runs at CPL3,
 * so every code and data descriptor it can load has DPL 3 in umbra's real GDT and LDT; user
 * code, which runs unscanned, sees those: LAR/LSL/VERR/VERW of kernel descriptors succeed, a
 * ring-3 load of a DPL 0 data selector succeeds, a DPL 3 call gate is not there. The CPU sets
 * a descriptor's accessed bit in the real table, never in the guest's. A kernel load of a DPL 0
 * data selector with RPL 3 passes the real check. */
#include "rt.h"

enum { G_GATE3 = 6, G_DATA1, G_CONF0, G_FRESH, G_FRESH3 };
#define SEL(i) ((u16)((i) * 8))

static const u16 sels[] = { K_CS, K_DS, K_DS | 3, SEL(G_GATE3), SEL(G_DATA1), SEL(G_CONF0) };
#define NSELS (sizeof sels / sizeof sels[0])
static u32 lar[NSELS], lsl[NSELS];
static u8 lar_ok[NSELS], lsl_ok[NSELS], verr[NSELS], verw[NSELS];

static void user_checks(void)
{
    for (unsigned i = 0; i < NSELS; i++) {
        u32 s = sels[i], v = 0xdeadbeef, z;
        __asm__ volatile("lar %2, %0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"(s) : "cc");
        lar[i] = v; lar_ok[i] = (u8)z;
        v = 0xdeadbeef;
        __asm__ volatile("lsl %2, %0\n\tsetz %b1" : "+r"(v), "=q"(z) : "r"(s) : "cc");
        lsl[i] = v; lsl_ok[i] = (u8)z;
        __asm__ volatile("verr %w1\n\tsetz %b0" : "=q"(z) : "r"(s) : "cc");
        verr[i] = (u8)z;
        __asm__ volatile("verw %w1\n\tsetz %b0" : "=q"(z) : "r"(s) : "cc");
        verw[i] = (u8)z;
    }
    user_exit();
}

static u32 user_sel;
static void user_load_es(void) { __asm__ volatile("mov %w0, %%es" :: "r"(user_sel)); user_exit(); }
static void load_ds(void *p) { __asm__ volatile("push %%ds\n\tmov %w0, %%ds\n\tpop %%ds" :: "r"((u32)p)); }

void tests(void)
{
    say("cpu_seg_user: kernel descriptors seen from ring 3, accessed bits\n");
    gdt[G_GATE3 * 2] = (K_CS << 16) | 0x1234;               /* call gate DPL 3 */
    gdt[G_GATE3 * 2 + 1] = 0x0000ec00;
    gdt_set(G_DATA1, 0, 0xfffff, 0xb3, 0xc);
    gdt_set(G_CONF0, 0, 0xfffff, 0x9f, 0xc);
    gdt_set(G_FRESH, 0, 0xfffff, 0x92, 0xc);                /* accessed bit clear */
    gdt_set(G_FRESH3, 0, 0xfffff, 0xf2, 0xc);
    __asm__ volatile("lgdt gdtr" ::: "memory");
    expect_trap("ring 3 checks", try_user(user_checks), 0x80, 0);
    for (unsigned i = 0; i < NSELS; i++)
        say("ring 3 sel %04x: lar %u %08x lsl %u %08x verr %u verw %u\n", sels[i], lar_ok[i], lar[i],
            lsl_ok[i], lsl[i], verr[i], verw[i]);
    user_sel = K_DS;
    expect_trap("ring 3 es kernel data", try_user(user_load_es), 13, K_DS);
    user_sel = SEL(G_DATA1) | 3;
    expect_trap("ring 3 es dpl 1 data", try_user(user_load_es), 13, SEL(G_DATA1));
    expect_trap("ring 0 ds kernel data with rpl 3", try_call(load_ds, (void *)(u32)(K_DS | 3)), 13, K_DS);

    volatile u32 *g = (volatile u32 *)gdt;
    __asm__ volatile("push %%fs\n\tmov %w0, %%fs\n\tpop %%fs" :: "r"((u32)SEL(G_FRESH)) : "memory");
    say("accessed bit after mov fs in ring 0: %u\n", (g[G_FRESH * 2 + 1] >> 8) & 1);
    user_sel = SEL(G_FRESH3) | 3;
    expect_trap("ring 3 es", try_user(user_load_es), 0x80, 0);
    say("accessed bit after mov es in ring 3: %u\n", (g[G_FRESH3 * 2 + 1] >> 8) & 1);
}

/* What scan-before-execute must hide: POPF changing IF (plain, nested, with a timer
 * interrupt waiting or running, setting TF), reached by a direct call, a function pointer, a
 * jump table and across page boundaries; MOV and PUSH from segment registers; LAR, LSL, VERR,
 * VERW; SGDT, SIDT, SLDT, STR, SMSW; reads of the guest's own code (a checksum of .text, the
 * opcode bytes of POPF functions); code and data in one page; self-modifying code; the
 * guest's own INT3, #UD and #DE; with paging on, a fetch from an absent page and a code page
 * remapped to another frame.
 *
 * Every wait is bounded by a loop count, never by HLT or the timer, so that a POPF that does
 * not change IF shows as `not ok` and the guest still ends. */
#include "tests/guests/lib/paging.h"

/* Linker symbols (tests/guests/lib/guest.ld): the guest's code, the Multiboot header first. */
extern const uint8_t text_start[], text_end[];

/* ---- code at fixed places -----------------------------------------------------------------
 * One section, page aligned, just over three pages long:
 *   page 0: a counter and the function that bumps it (code and data sharing a page);
 *   popf_at_page: its POPF is the first byte of page 1;
 *   popfw_straddle: its POPFW (66 9d) straddles pages 1 and 2;
 *   popf_after_long: a MOV with a 32-bit immediate straddles pages 2 and 3, POPF follows.
 * Each popf_* function returns EFLAGS after `pushf; cli; popf`. popf_indirect is called only
 * through a function pointer. */
__asm__(
    ".pushsection .text.scan_pages, \"ax\", @progbits\n"
    ".balign 4096\n"
    ".globl shared_counter, shared_data, shared_bump\n"
    "shared_counter: .long 0\n"
    "shared_data: .long 0\n"
    "shared_bump: pushf; cli; incl shared_counter; popf; pushf; pop %eax; ret\n"
    ".org 4096 - 3\n"
    ".globl popf_at_page\n"
    "popf_at_page: pushf; cli; nop; popf; pushf; pop %eax; ret\n"
    ".org 8192 - 4\n"
    ".globl popfw_straddle\n"
    "popfw_straddle: pushfw; cli; popfw; pushf; pop %eax; ret\n"
    ".org 12288 - 4\n"
    ".globl popf_after_long\n"
    "popf_after_long: pushf; cli; mov $0x12345678, %ecx; popf; pushf; pop %eax; ret\n"
    ".popsection\n"
    ".pushsection .text, \"ax\", @progbits\n"
    ".globl popf_indirect\n"
    "popf_indirect: pushf; cli; xchg %ebx, %ebx; popf; pushf; pop %eax; ret\n"
    ".popsection\n");

extern volatile uint32_t shared_counter, shared_data;
uint32_t shared_bump(void);
uint32_t popf_at_page(void);
uint32_t popfw_straddle(void);
uint32_t popf_after_long(void);
uint32_t popf_indirect(void);
static uint32_t (*volatile via_pointer)(void) = popf_indirect;

#define IF EFL_IF
#define TF EFL_TF

static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* Save EFLAGS and clear IF, as a kernel's local_irq_save does. */
static inline uint32_t irq_save(void) { uint32_t f; __asm__ volatile("pushf; pop %0; cli" : "=r"(f) :: "memory"); return f; }
/* Restore saved EFLAGS with POPF. */
static inline void irq_restore(uint32_t f) { __asm__ volatile("push %0; popf" :: "r"(f) : "memory", "cc"); }

/* A checksum of the guest's .text as read with data loads (FNV-1a). */
static uint32_t text_sum(void)
{
    uint32_t h = 2166136261u;
    for (const volatile uint8_t *p = text_start; p < text_end; p++) h = (h ^ *p) * 16777619u;
    return h;
}

/* ---- 1. POPF and IF ---- */
static volatile uint32_t ticks, tick_eip, db_count, db_eip;
extern char after_popf_sti[], tf_next[];

/* IRQ0: count it, note where it came in; exactly one, however slow the machine. */
static void tick(struct gframe *f)
{
    ticks++;
    tick_eip = f->eip;
    pic_mask(0xffff);
    pic_eoi(0);
}

/* #DB: the first single-step trap ends the stepping. */
static void debug_trap(struct gframe *f)
{
    if (!db_count++) db_eip = f->eip;
    f->eflags &= ~TF;
}

/* Poll the master 8259's IRR for IRQ0, at most `limit` times; whether it was seen. */
static bool irq0_requested(unsigned limit)
{
    for (unsigned i = 0; i < limit; i++) {
        outb(0x20, 0x0a);
        if (inb(0x20) & 1) return true;
    }
    return false;
}

/* Ring 3: try to set IF and IOPL with POPF, note what came of it. */
static volatile uint32_t user_flags;
static void user_popf(void)
{
    uint32_t f;
    __asm__ volatile("pushf; orl $0x3200, (%%esp); popf; pushf; pop %0" : "=r"(f) :: "memory", "cc");
    user_flags = f;
    RING0_RETURN();
}

static __attribute__((noinline)) void popf_if(void)
{
    /* The firmware may have left its timer running on IRQ0 (vector 8 on a BIOS's 8259):
     * remap and mask the 8259s before the first STI. */
    pic_init();
    set_handler(0x20, tick, 0, false);
    uint32_t f;
    sti();
    __asm__ volatile("pushf; cli; popf; pushf; pop %0" : "=r"(f) :: "memory", "cc");
    cli();
    check_eq(f & IF, IF, "POPF: pushf; cli; popf restores IF=1");
    sti();
    __asm__ volatile("pushf; andl $~0x200, (%%esp); popf; pushf; pop %0" : "=r"(f) :: "memory", "cc");
    cli();
    check_eq(f & IF, 0, "POPF: clears IF from IF=1");

    sti();
    uint32_t outer = irq_save();
    uint32_t inner = irq_save();
    uint32_t in_inner = eflags() & IF;
    irq_restore(inner);
    uint32_t after_inner = eflags() & IF;
    irq_restore(outer);
    uint32_t after_outer = eflags() & IF;
    cli();
    check_eq(outer & IF, IF, "nested: the outer save saw IF=1");
    check_eq(inner & IF, 0, "nested: the inner save saw IF=0");
    check_eq(in_inner, 0, "nested: IF clear inside");
    check_eq(after_inner, 0, "nested: IF still clear after the inner restore");
    check_eq(after_outer, IF, "nested: IF set after the outer restore");

    /* A timer interrupt waiting at the 8259 comes in right after the POPF that sets IF. */
    pit_periodic(1000);
    pic_mask(0xfffe);
    bool waiting = irq0_requested(1000000);
    check(waiting, "the timer's request waits at the 8259 while IF is clear");
    uint32_t seen;
    __asm__ volatile("pushf; orl $0x200, (%%esp); popf\n"
                     "after_popf_sti: mov %1, %0" : "=r"(seen) : "m"(ticks) : "memory", "cc");
    cli();
    pic_mask(0xffff);
    check_eq(seen, 1, "POPF setting IF takes the waiting interrupt at the next boundary");
    check_eq(ticks, 1, "one tick");
    check_eq(tick_eip, (uint32_t)after_popf_sti, "the interrupt frame's EIP is right after the POPF");

    /* POPF clearing IF while the timer runs: nothing comes in. */
    ticks = 0;
    sti();
    __asm__ volatile("pushf; andl $~0x200, (%%esp); popf" ::: "memory", "cc");
    pic_mask(0xfffe);
    waiting = irq0_requested(1000000);
    for (volatile unsigned i = 0; i < 20000; i++) ;
    uint32_t got = ticks;
    pic_mask(0xffff);
    cli();
    check(waiting, "the timer requested IRQ0 during the busy loop");
    check_eq(got, 0, "POPF clearing IF: no interrupt during the busy loop");

    /* POPF setting TF: the guest's own #DB after the next instruction. */
    set_handler(1, debug_trap, 0, false);
    __asm__ volatile("pushf; orl $0x100, (%%esp); popf; nop\n"
                     "tf_next: nop; nop" ::: "memory", "cc");
    check_eq(db_count, 1, "POPF setting TF: one #DB");
    check_eq(db_eip, (uint32_t)tf_next, "POPF setting TF: #DB after the instruction that follows");
    check_eq(eflags() & TF, 0, "TF clear again");

    /* POPF at CPL0 changes IOPL too. */
    __asm__ volatile("pushf; orl $0x3000, (%%esp); popf; pushf; pop %0\n"
                     "pushf; andl $~0x3000, (%%esp); popf" : "=r"(f) :: "memory", "cc");
    check_eq(f & EFL_IOPL, EFL_IOPL, "POPF sets IOPL to 3");
    check_eq(eflags() & EFL_IOPL, 0, "POPF clears IOPL again");

    /* The guest's own ring 3 (IOPL 0): POPF changes neither IF nor IOPL, silently. */
    run_user(user_popf);
    /* The IRET to ring 3 nulled FS and GS (DPL 0); run_user reloads only DS and ES. */
    __asm__ volatile("mov %0, %%fs; mov %0, %%gs" :: "r"(KDS));
    check_eq(user_flags & (IF | EFL_IOPL), 0, "ring 3 POPF leaves IF and IOPL alone");
}

/* ---- 2. the same POPF reached other ways ---- */

/* One POPF site per case: gcc compiles the switch to a jump table (an indirect jmp). */
#define POPF_CASE(k) case k: __asm__ volatile("pushf; cli; mov $" #k ", %%ecx; popf; pushf; pop %0" \
                                              : "=r"(f) :: "ecx", "memory", "cc"); return (f & IF) | k
static __attribute__((noinline, noclone)) uint32_t popf_switch(unsigned k)
{
    uint32_t f;
    switch (k) {
    POPF_CASE(0); POPF_CASE(1); POPF_CASE(2); POPF_CASE(3); POPF_CASE(4); POPF_CASE(5);
    POPF_CASE(6); POPF_CASE(7); POPF_CASE(8); POPF_CASE(9); POPF_CASE(10); POPF_CASE(11);
    default: return 0xffffffffu;
    }
}

/* Call fn with IF set; the IF it returned. */
static uint32_t with_if(uint32_t (*fn)(void))
{
    sti();
    uint32_t f = fn();
    cli();
    return f & IF;
}

static void popf_places(void)
{
    check_eq(with_if(via_pointer), IF, "POPF in a function reached only through a pointer");
    unsigned good = 0;
    for (unsigned k = 0; k < 12; k++) {
        sti();
        uint32_t r = popf_switch(k);
        cli();
        if (r == (IF | k)) good++;
    }
    check_eq(good, 12, "POPF in the 12 cases of a jump table");
    check_eq(((uint32_t)popf_at_page + 3) & 0xfff, 0, "popf_at_page's POPF is the first byte of a page");
    check_eq(with_if(popf_at_page), IF, "POPF at the first byte of a page");
    check_eq(((uint32_t)popfw_straddle + 4) & 0xfff, 0, "popfw_straddle's POPFW crosses a page end");
    check_eq(with_if(popfw_straddle), IF, "POPFW straddling two pages");
    check_eq(((uint32_t)popf_after_long + 4) & 0xfff, 0, "popf_after_long's MOV crosses a page end");
    check_eq(with_if(popf_after_long), IF, "POPF after an instruction straddling two pages");
}

/* ---- 3. segment registers, descriptors, descriptor tables ---- */
static uint32_t lar(uint32_t sel, bool *zf)
{
    uint32_t r = 0xdead0000u;
    uint8_t z;
    __asm__ volatile("lar %w2, %0; setz %1" : "+r"(r), "=q"(z) : "r"(sel) : "cc");
    *zf = z;
    return r;
}

static uint32_t lsl(uint32_t sel, bool *zf)
{
    uint32_t r = 0xdead0000u;
    uint8_t z;
    __asm__ volatile("lsl %w2, %0; setz %1" : "+r"(r), "=q"(z) : "r"(sel) : "cc");
    *zf = z;
    return r;
}

static bool verr(uint32_t sel) { uint8_t z; __asm__ volatile("verr %w1; setz %0" : "=q"(z) : "r"(sel) : "cc"); return z; }
static bool verw(uint32_t sel) { uint8_t z; __asm__ volatile("verw %w1; setz %0" : "=q"(z) : "r"(sel) : "cc"); return z; }

static void segments(void)
{
    uint32_t cs, ss, ds, es, fs, gs;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3; mov %%fs, %4; mov %%gs, %5"
                     : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
    check_eq(cs & 0xffff, KCS, "MOV from CS");
    check_eq(ss & 0xffff, KDS, "MOV from SS");
    check_eq(ds & 0xffff, KDS, "MOV from DS");
    check_eq(es & 0xffff, KDS, "MOV from ES");
    check_eq(fs & 0xffff, KDS, "MOV from FS");
    check_eq(gs & 0xffff, KDS, "MOV from GS");
    static volatile uint16_t mcs, mss;
    __asm__ volatile("movw %%cs, %0; movw %%ss, %1" : "=m"(mcs), "=m"(mss));
    check_eq(mcs, KCS, "MOV from CS to memory");
    check_eq(mss, KDS, "MOV from SS to memory");
    uint32_t pcs, pss, dcs, dss;
    __asm__ volatile("mov %%esp, %%ecx; push %%cs; sub %%esp, %%ecx; pop %0; mov %%ecx, %2\n"
                     "mov %%esp, %%ecx; push %%ss; sub %%esp, %%ecx; pop %1; mov %%ecx, %3"
                     : "=r"(pcs), "=r"(pss), "=r"(dcs), "=r"(dss) :: "ecx", "memory");
    check_eq(pcs & 0xffff, KCS, "PUSH CS then POP");
    check_eq(dcs, 4, "PUSH CS pushes four bytes");
    check_eq(pss & 0xffff, KDS, "PUSH SS then POP");
    check_eq(dss, 4, "PUSH SS pushes four bytes");
    /* A far call pushes CS as well: the callee reads it from its stack. */
    uint32_t fcs;
    __asm__ volatile("lcall $0x08, $1f; jmp 2f\n"
                     "1: mov 4(%%esp), %0; lret\n"
                     "2:" : "=r"(fcs) :: "memory");
    check_eq(fcs & 0xffff, KCS, "far CALL pushes the guest's CS");
}

/* LAR and LSL on sel: ZF, and when set the result. LAR's must match the descriptor's second
 * dword as it is in the GDT, masked as LAR defines it (00FxFF00: bits 19:16, the top of the
 * limit, are undefined; QEMU clears them, Bochs copies them), and want_ar apart from the
 * accessed bit, which a CPU may or may not have set by loading the segment. */
static void lar_lsl(uint32_t sel, bool valid, uint32_t want_ar, uint32_t want_limit, const char *name)
{
    bool z;
    uint32_t ar = lar(sel, &z);
    check_eq(z, valid, "LAR %s: ZF", name);
    if (valid) {
        uint32_t hi = (uint32_t)(guest_gdt()[sel >> 3] >> 32);
        check_eq(ar & 0x00f0ff00u, hi & 0x00f0ff00u, "LAR %s: the descriptor's access rights", name);
        check_eq(ar & 0x00f0fe00u, want_ar, "LAR %s: type, DPL, G, D (A ignored)", name);
    } else {
        check_eq(ar, 0xdead0000u, "LAR %s: the destination unchanged", name);
    }
    uint32_t lim = lsl(sel, &z);
    check_eq(z, valid, "LSL %s: ZF", name);
    check_eq(lim, valid ? want_limit : 0xdead0000u, "LSL %s: %s", name, valid ? "the limit" : "the destination unchanged");
}

static void descriptors(void)
{
    lar_lsl(KCS, true, 0x00c09a00u, 0xffffffffu, "kernel code 0x08");
    lar_lsl(KDS, true, 0x00c09200u, 0xffffffffu, "kernel data 0x10");
    lar_lsl(UCS, true, 0x00c0fa00u, 0xffffffffu, "user code 0x1b");
    lar_lsl(UDS, true, 0x00c0f200u, 0xffffffffu, "user data 0x23");
    lar_lsl(TSS_SEL, true, 0x00008a00u, sizeof gtss - 1, "TSS 0x28 (busy)");
    lar_lsl(KCS | 3, false, 0, 0, "kernel code with RPL 3");
    lar_lsl(0, false, 0, 0, "null selector");
    lar_lsl(0x30, false, 0, 0, "0x30, past the GDT's limit");
    lar_lsl(0xffc0, false, 0, 0, "0xffc0, far past the limit");
    unsigned n = 0;
    for (uint32_t sel = 0; sel < 0x10000; sel += 8) { bool z; lar(sel, &z); n += z; }
    check_eq(n, 5, "LAR succeeds on 5 of the 8192 RPL-0 selectors");

    static const struct { uint16_t sel; bool r, w; const char *name; } v[] = {
        { KCS, true, false, "kernel code" }, { KDS, true, true, "kernel data" },
        { UCS, true, false, "user code" },   { UDS, true, true, "user data" },
        { KDS | 3, false, false, "kernel data with RPL 3" }, { TSS_SEL, false, false, "the TSS" },
        { 0, false, false, "null" },         { 0x30, false, false, "past the limit" },
    };
    for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
        check_eq(verr(v[i].sel), v[i].r, "VERR %s", v[i].name);
        check_eq(verw(v[i].sel), v[i].w, "VERW %s", v[i].name);
    }
}

static void tables(void)
{
    extern const uint32_t gstub_table[256];
    struct __attribute__((packed)) { uint16_t l; uint32_t b; } g = { 0, 0 }, i = { 0, 0 };
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
    check_eq(g.l, 6 * 8 - 1, "SGDT: the limit the guest loaded");
    check_eq(g.b, (uint32_t)guest_gdt(), "SGDT: the base the guest loaded");
    check_eq(i.l, 256 * 8 - 1, "SIDT: the limit the guest loaded");
    /* The library keeps its IDT to itself: SIDT's base is right if the gates there are its own. */
    bool inside = i.b >= (uint32_t)text_start && i.b < 0x400000 - 256 * 8;
    check(inside, "SIDT: the base lies in the guest's image");
    unsigned same = 0;
    for (unsigned v = 0; inside && v < 256; v++) {
        const uint32_t *gate = (const uint32_t *)(i.b + 8 * v);
        same += (gate[0] & 0xffff) == (gstub_table[v] & 0xffff) && gate[0] >> 16 == KCS &&
                (gate[1] & 0xffff0000u) == (gstub_table[v] & 0xffff0000u);
    }
    check_eq(same, 256, "SIDT: the gates at that base are the guest's");
    uint32_t ldt = 0xdead0000u, tr = 0xdead0000u, msw = 0xdead0000u;
    __asm__ volatile("sldt %w0; str %w1; smsw %w2" : "+r"(ldt), "+r"(tr), "+r"(msw));
    check_eq(ldt & 0xffff, 0, "SLDT gives 0: no LDT");
    check_eq(tr & 0xffff, TSS_SEL, "STR gives the guest's TSS");
    check_eq(msw & 0xffff, rd_cr0() & 0xffff, "SMSW gives CR0's low word");
    static volatile uint16_t mtr, mmsw;
    __asm__ volatile("str %0; smsw %1" : "=m"(mtr), "=m"(mmsw));
    check_eq(mtr, TSS_SEL, "STR to memory");
    check_eq(mmsw, rd_cr0() & 0xffff, "SMSW to memory");
}

/* ---- 4. reads of code, code and data in one page, self-modifying code ---- */
static void code_reads(void)
{
    static const uint8_t at_page[] = { 0x9c, 0xfa, 0x90, 0x9d, 0x9c, 0x58, 0xc3 };
    static const uint8_t straddle[] = { 0x66, 0x9c, 0xfa, 0x66, 0x9d, 0x9c, 0x58, 0xc3 };
    static const uint8_t indirect[] = { 0x9c, 0xfa, 0x87, 0xdb, 0x9d, 0x9c, 0x58, 0xc3 };
    check(!memcmp((const void *)popf_at_page, at_page, sizeof at_page), "popf_at_page reads as its opcodes");
    check(!memcmp((const void *)popfw_straddle, straddle, sizeof straddle), "popfw_straddle reads as its opcodes");
    check(!memcmp((const void *)popf_indirect, indirect, sizeof indirect), "popf_indirect reads as its opcodes");
    const volatile uint8_t *m = (const volatile uint8_t *)popf_after_long;
    check(m[0] == 0x9c && m[1] == 0xfa && m[2] == 0xb9 && m[3] == 0x78 && m[6] == 0x12 && m[7] == 0x9d,
          "popf_after_long reads as its opcodes across the page end");
}

static void shared_page(void)
{
    check_eq((uint32_t)&shared_counter >> 12, (uint32_t)shared_bump >> 12, "the counter shares shared_bump's page");
    unsigned good = 0;
    for (unsigned i = 0; i < 500; i++) {
        sti();
        uint32_t f = shared_bump();
        cli();
        shared_data = i;
        good += (f & IF) && shared_counter == i + 1 && shared_data == i;
    }
    check_eq(shared_counter, 500, "500 bumps of a counter in the page of the running code");
    check_eq(good, 500, "each bump returned IF=1 and the data in that page kept what was written");
    shared_counter = 0;
    shared_data = 0;
}

static uint8_t smc[4096] __attribute__((aligned(4096)));

/* Write `mov $n, %eax; ret` at p. */
static void put_mov_ret(uint8_t *p, uint32_t n)
{
    p[0] = 0xb8;
    memcpy(p + 1, &n, 4);
    p[5] = 0xc3;
}

static void self_modifying(void)
{
    uint32_t (*volatile fn)(void) = (uint32_t (*)(void))smc;
    put_mov_ret(smc, 0x1111);
    check_eq(fn(), 0x1111, "generated code returns its immediate");
    put_mov_ret(smc, 0x2222);
    check_eq(fn(), 0x2222, "rewritten immediate comes back");
    for (unsigned i = 0; i < 100; i++) { smc[1] = (uint8_t)i; if (fn() != (0x2200u | i)) break; smc[1] = 0x22; }
    smc[1] = 0x22;
    check_eq(fn(), 0x2222, "100 rewrites of one byte, each seen by the next call");
    static const uint8_t popf_code[] = { 0x9c, 0xfa, 0x9d, 0x9c, 0x58, 0xc3 };   /* pushf; cli; popf; pushf; pop %eax; ret */
    memcpy(smc + 64, popf_code, sizeof popf_code);
    check_eq(with_if((uint32_t (*)(void))(smc + 64)), IF, "generated pushf; cli; popf restores IF=1");
    put_mov_ret(smc + 64, 0x3333);
    check_eq(((uint32_t (*volatile)(void))(smc + 64))(), 0x3333, "the POPF code overwritten by a MOV");
}

/* ---- 5. the guest's own exceptions ---- */
extern char bp_after[], bp_popf_after[], ud_at[], de_at[];

/* The frame of the last trap: vector, error code, EIP, CS, and IF and TF as they were. */
static void frame_is(unsigned v, uint32_t err, void *eip, const char *what)
{
    check_eq(last.vector, v, "%s: vector", what);
    check_eq(last.error, err, "%s: error code", what);
    check_eq(last.eip, (uint32_t)eip, "%s: EIP", what);
    check_eq(last.cs, KCS, "%s: CS", what);
    check_eq(last.eflags & (IF | TF), 0, "%s: IF and TF as they were", what);
}

static __attribute__((noinline)) void own_traps(void)
{
    traps_seen = 0;
    expect_trap(3, 0);
    __asm__ volatile("int3\nbp_after:");
    frame_is(3, 0, bp_after, "INT3 (EIP after the int3)");
    __asm__ volatile("pushf; cli; popf; int3\nbp_popf_after:" ::: "memory", "cc");
    frame_is(3, 0, bp_popf_after, "INT3 right after a POPF");
    expect_trap(6, 2);
    __asm__ volatile("ud_at: ud2");
    frame_is(6, 0, ud_at, "UD2");
    expect_trap(0, 2);
    __asm__ volatile("xor %%ecx, %%ecx; mov $7, %%eax; xor %%edx, %%edx; de_at: div %%ecx" ::: "eax", "ecx", "edx", "cc");
    frame_is(0, 0, de_at, "DIV by zero");
    check_eq(traps_seen, 4, "four traps in all");
}

/* ---- 6. paging: fetch faults, a code page remapped ---- */
#define ABSENT_PDE 0x40000000u     /* no table */
#define ABSENT_PTE 0x40401000u     /* a table, no entry */
#define SUPER_CODE 0x40402000u     /* present, supervisor only: ring 3 fetches fault */
#define CODE_VA    0x40403000u     /* remapped between two frames */
static volatile struct pg_fault ff;
static volatile uint32_t fetch_resume;
extern char fetch_back[], user_fetch_back[];

/* #PF from a fetch: record it, continue at fetch_resume. */
static void fetch_fault(struct gframe *f)
{
    ff.count++;
    ff.error = f->error;
    ff.cr2 = rd_cr2();
    ff.eip = f->eip;
    ff.cs = f->cs;
    f->eip = fetch_resume;
}

static __attribute__((noinline)) void fetch(uint32_t va, const char *what)
{
    unsigned before = ff.count;
    fetch_resume = (uint32_t)fetch_back;
    __asm__ volatile("jmp *%0\nfetch_back:" :: "r"(va) : "memory");
    check_eq(ff.count - before, 1, "%s: #PF", what);
    check_eq(ff.error, 0, "%s: error code 0 (no I/D bit without PAE)", what);
    check_eq(ff.cr2, va, "%s: CR2", what);
    check_eq(ff.eip, va, "%s: EIP", what);
    check_eq(ff.cs, KCS, "%s: CS", what);
}

static volatile uint32_t user_target;
static __attribute__((noinline)) void user_jump(void)
{
    __asm__ volatile("jmp *%0\nuser_fetch_back:" :: "m"(user_target) : "memory");
    RING0_RETURN();
}

static uint32_t call_at(uint32_t va) { return ((uint32_t (*volatile)(void))va)(); }

static void paging(void)
{
    pg_frames(0x400000, 0x1000000);
    uint32_t *pd = pg_dir();
    pg_identity(pd, 0x1000000, PTE_P | PTE_W | PTE_U);
    *pg_slot(pd, ABSENT_PTE, PTE_P | PTE_W | PTE_U) = 0;
    uint32_t f1 = pg_frame(), f2 = pg_frame(), fs = pg_frame();
    put_mov_ret((uint8_t *)f1, 1);
    put_mov_ret((uint8_t *)f2, 2);
    put_mov_ret((uint8_t *)fs, 5);
    pg_map(pd, SUPER_CODE, fs, PTE_P | PTE_W);
    pg_map(pd, CODE_VA, f1, PTE_P | PTE_W);
    set_handler(14, fetch_fault, 0, false);
    pg_enable(pd);

    fetch(ABSENT_PDE, "fetch from a page with no table");
    fetch(ABSENT_PTE, "fetch from an absent page");
    check_eq(call_at(SUPER_CODE), 5, "the kernel runs code in a supervisor page");
    user_target = SUPER_CODE;
    fetch_resume = (uint32_t)user_fetch_back;
    unsigned before = ff.count;
    run_user(user_jump);
    check_eq(ff.count - before, 1, "ring 3 fetch from a supervisor page: #PF");
    check_eq(ff.error, PFEC_P | PFEC_U, "ring 3 fetch from a supervisor page: error code 5");
    check_eq(ff.cr2, SUPER_CODE, "ring 3 fetch from a supervisor page: CR2");
    check_eq(ff.cs, UCS, "ring 3 fetch from a supervisor page: CS");

    check_eq(call_at(CODE_VA), 1, "code page on frame 1");
    *pg_slot(pd, CODE_VA, 0) = f2 | PTE_P | PTE_W;
    invlpg(CODE_VA);
    check_eq(call_at(CODE_VA), 2, "remapped to frame 2 after INVLPG: the new code runs");
    *pg_slot(pd, CODE_VA, 0) = f1 | PTE_P | PTE_W;
    cr3_reload();
    check_eq(call_at(CODE_VA), 1, "back to frame 1 after a CR3 reload");
    *pg_slot(pd, CODE_VA, 0) = f2 | PTE_P | PTE_W;
    invlpg(CODE_VA);
    ((volatile uint8_t *)f2)[1] = 3;                 /* through the identity map: an alias */
    check_eq(call_at(CODE_VA), 3, "frame 2 rewritten through another mapping: the new code runs");
    set_handler(14, 0, 0, false);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    uint32_t sum = text_sum();
    popf_if();
    popf_places();
    segments();
    descriptors();
    tables();
    code_reads();
    shared_page();
    self_modifying();
    own_traps();
    paging();
    check_eq(text_sum(), sum, "the checksum of .text is %x before and after", sum);
    return summary("scan");
}

/* Page-table writes the hard way, the ones a monitor that protects tables must emulate or
 * single-step exactly: byte, word, unaligned (also across the end of the table's page into
 * a page not touched before) and eight-byte writes, XCHG, CMPXCHG (both outcomes),
 * CMPXCHG8B, locked OR/AND/ADD/BTS/BTR, POP to memory, MOVS, STOS and their REP forms; a
 * table write under the guest's own single-step (TF); table writes interrupted by the timer
 * while its handler edits the same table; table writes that fault (a MOVS whose source is
 * absent, a write that runs off the table's page, a write through a read-only data mapping
 * of the table) and must leave the table untouched; and ring 3 writing a table through a
 * user mapping of it. Every edit is followed by INVLPG before the new mapping is used (or
 * needs none: not present before). */
#include "tests/guests/lib/paging.h"

#define TEST  0x40000000u          /* PD[0x100]: table T */
#define DATA  0x40400000u          /* PD[0x101]: T as data (RW), nothing, T read-only, T for ring 3, a data page */
#define DATA_RO   (DATA + 0x2000)
#define DATA_USER (DATA + 0x3000)

static uint32_t *kpd, *t, base;    /* base: 16 tagged frames at base + k * 4 KiB, 64 KiB aligned */

static uint32_t frame(unsigned k) { return base + k * PAGE; }
static uint32_t va(unsigned i) { return TEST + i * PAGE; }
static uint32_t *slot(unsigned i) { return (uint32_t *)(DATA + i * 4); }   /* T[i] through the data mapping */

/* Does page i read as frame k (at dword j)? Checked after an INVLPG unless told not to. */
static void maps(unsigned i, unsigned k, bool inval, const char *what)
{
    if (inval) invlpg(va(i));
    uint32_t j = (i * 7 + k) & 1023, v = 0;
    uint32_t r = pg_read(va(i) + j * 4, &v);
    check_eq(r == PG_OK ? v : r, frame(k) | j, "%s", what);
}

/* Is page i absent (a kernel read faults with error code 0 and the right CR2)? */
static void absent(unsigned i, const char *what)
{
    invlpg(va(i));
    uint32_t v, r = pg_read(va(i) + 0x40, &v);
    check(r == PG_FAULT && pgf.cr2 == va(i) + 0x40, "%s", what);
}

static uint32_t pte(unsigned k) { return frame(k) | PTE_P | PTE_W; }

/* ---- 1. instructions ---- */
static void instructions(void)
{
    t[1] = pte(0);
    maps(1, 0, true, "mov: page 1 on frame 0");
    __asm__ volatile("movb %1, 1(%0)" :: "r"(slot(1)), "q"((uint8_t)(3 << 4)) : "memory");
    maps(1, 3, true, "movb: one byte of the entry moves it to frame 3");
    __asm__ volatile("movw %1, (%0)" :: "r"(slot(1)), "r"((uint16_t)(5 << 12 | 3)) : "memory");
    maps(1, 5, true, "movw: the low half moves it to frame 5");

    uint32_t old = pte(6);
    __asm__ volatile("xchg %0, (%1)" : "+r"(old) : "r"(slot(1)) : "memory");
    check_eq(old & ~(PTE_A | PTE_D), pte(5), "xchg: the old entry comes back");
    maps(1, 6, true, "xchg: the new one maps");

    uint32_t expect = t[1], got = expect;
    __asm__ volatile("lock cmpxchg %2, (%1)" : "+a"(got) : "r"(slot(1)), "r"(pte(7)) : "memory", "cc");
    check_eq(got, expect, "cmpxchg: succeeds");
    maps(1, 7, true, "cmpxchg: the new entry maps");
    got = pte(2);
    __asm__ volatile("lock cmpxchg %2, (%1)" : "+a"(got) : "r"(slot(1)), "r"(pte(8)) : "memory", "cc");
    check_eq(got, t[1], "cmpxchg: fails and returns the entry");
    maps(1, 7, true, "cmpxchg: the failed one changed nothing");

    /* CMPXCHG8B over entries 2 and 3. */
    t[2] = pte(0); t[3] = 0;
    maps(2, 0, true, "cmpxchg8b: before");
    uint32_t lo = t[2], hi = t[3];
    __asm__ volatile("lock cmpxchg8b (%2)" : "+a"(lo), "+d"(hi) : "r"(slot(2)), "b"(pte(9)), "c"(pte(10)) : "memory", "cc");
    maps(2, 9, true, "cmpxchg8b: the low entry");
    maps(3, 10, false, "cmpxchg8b: the high entry, not present before");

    __asm__ volatile("lock andl %1, (%0)" :: "r"(slot(2)), "i"(~PTE_W) : "memory", "cc");
    invlpg(va(2));
    check_eq(pg_write(va(2) + 8, 1), PG_FAULT | PFEC_P | PFEC_W, "and: R/W cleared, a kernel write faults");
    __asm__ volatile("lock orl %1, (%0)" :: "r"(slot(2)), "i"(PTE_W) : "memory", "cc");
    invlpg(va(2));
    check_eq(pg_write(va(2) + 8, frame(9) | 2), PG_OK, "or: R/W set, the write goes through");
    __asm__ volatile("lock addl %1, (%0)" :: "r"(slot(2)), "i"(PAGE) : "memory", "cc");
    maps(2, 10, true, "add: the next frame");
    __asm__ volatile("lock btrl $0, (%0)" :: "r"(slot(2)) : "memory", "cc");
    absent(2, "btr: P cleared, the page is absent");
    __asm__ volatile("lock btsl $0, (%0)" :: "r"(slot(2)) : "memory", "cc");
    maps(2, 10, false, "bts: P set again, present with no INVLPG needed");

    __asm__ volatile("pushl %1; popl (%0)" :: "r"(slot(4)), "r"(pte(11)) : "memory");
    maps(4, 11, false, "pop to memory: a new entry");

    /* An unaligned dword: the high half of entry 4 and the low half of entry 5. */
    t[5] = pte(1);
    maps(5, 1, true, "unaligned: before");
    uint32_t v = (pte(12) & 0xffff) << 16 | frame(0) >> 16;
    __asm__ volatile("movl %1, 2(%0)" :: "r"(slot(4)), "r"(v) : "memory");
    maps(4, 11, true, "unaligned: the first entry keeps its frame");
    maps(5, 12, true, "unaligned: the second entry moved");

    /* An unaligned dword across the end of the table's page into a data page not used
     * before: the table entry's high half and the data page's first two bytes. */
    t[1023] = pte(4);
    maps(1023, 4, true, "across pages: before");
    v = 0xbeef0000 | base >> 16;
    __asm__ volatile("movl %1, 0xffe(%0)" :: "r"(DATA_USER), "r"(v) : "memory");
    maps(1023, 4, true, "across pages: the entry keeps its frame");
    check_eq(((uint32_t *)frame(15))[0], (frame(15) & 0xffff0000) | 0xbeef, "across pages: the data page got the rest");
    ((uint32_t *)frame(15))[0] = frame(15);

    static uint32_t src[16];
    for (unsigned i = 0; i < 16; i++) src[i] = pte(i);
    uint32_t s = (uint32_t)src, d = (uint32_t)slot(32);
    __asm__ volatile("cld; movsl" : "+S"(s), "+D"(d) :: "memory");
    maps(32, 0, false, "movs: one entry copied");
    uint32_t n = 15;
    __asm__ volatile("cld; rep movsl" : "+S"(s), "+D"(d), "+c"(n) :: "memory");
    unsigned wrong = 0;
    for (unsigned i = 33; i < 48; i++) {
        uint32_t x = 0;
        if (pg_read(va(i) + 4, &x) != PG_OK || x != (frame(i - 32) | 1)) wrong++;
    }
    check_eq(wrong, 0, "rep movs: fifteen entries copied, each maps its frame");
    d = (uint32_t)slot(32);
    __asm__ volatile("cld; stosl" : "+D"(d) : "a"(pte(15)) : "memory");
    maps(32, 15, true, "stos: one entry stored");
    n = 16; d = (uint32_t)slot(32);
    __asm__ volatile("cld; rep stosl" : "+D"(d), "+c"(n) : "a"(0) : "memory");
    wrong = 0;
    for (unsigned i = 32; i < 48; i++) {
        invlpg(va(i));
        uint32_t x;
        if (pg_read(va(i), &x) != PG_FAULT) wrong++;
    }
    check_eq(wrong, 0, "rep stos: sixteen entries zeroed, each page absent");
    s = (uint32_t)&src[15]; d = (uint32_t)slot(47); n = 16;
    __asm__ volatile("std; rep movsl; cld" : "+S"(s), "+D"(d), "+c"(n) :: "memory");
    wrong = 0;
    for (unsigned i = 32; i < 48; i++) {
        uint32_t x = 0;
        if (pg_read(va(i) + 8, &x) != PG_OK || x != (frame(i - 32) | 2)) wrong++;
    }
    check_eq(wrong, 0, "rep movs backwards (DF set): sixteen entries, none needing INVLPG");
}

/* ---- 2. the guest's own single step ---- */
static volatile unsigned steps;
static volatile uint32_t step_eip[4];
extern char ss_write[], ss_read[], ss_nop[];

static void step(struct gframe *f)
{
    if (steps < 4) step_eip[steps] = f->eip;
    if (++steps >= 3) f->eflags &= ~0x100u;
}

static void single_step(void)
{
    set_handler(1, step, 0, false);
    t[6] = 0;
    invlpg(va(6));
    uint32_t v = 0;
    __asm__ volatile("pushf; orl $0x100, (%%esp); popf\n"
                     "mov %2, (%1)\n"
                     "ss_write: mov (%3), %0\n"
                     "ss_read: nop\n"
                     "ss_nop: nop"
                     : "=&r"(v) : "r"(slot(6)), "r"(pte(13)), "r"(va(6) + 12) : "memory");
    check_eq(steps, 3, "TF: three single-step traps");
    check_eq(step_eip[0], (uint32_t)ss_write, "TF: the first after the table write");
    check_eq(step_eip[1], (uint32_t)ss_read, "TF: the second after the read through it");
    check_eq(step_eip[2], (uint32_t)ss_nop, "TF: the third after the nop");
    check_eq(v, frame(13) | 3, "TF: the read saw the new entry");
    check_eq(eflags() & 0x100, 0, "TF: clear again");
}

/* ---- 3. the timer interrupting table writes ---- */
static volatile unsigned ticks, tick_wrong;

static void tick(struct gframe *f)
{
    (void)f;
    ticks++;
    t[8] = pte(ticks & 15);
    invlpg(va(8));
    if (peek(va(8)) != frame(ticks & 15)) tick_wrong++;
    if (ticks >= 20) pic_mask(0xffff);         /* exactly 20, however slow the machine */
    pic_eoi(0);
}

static void interrupted(void)
{
    set_handler(0x20, tick, 0, false);
    pic_init();
    pit_periodic(2000);
    pic_mask(0xfffe);
    unsigned wrong = 0, k = 0;
    __asm__ volatile("sti");
    while (ticks < 20) {
        k = (k + 1) & 15;
        *slot(7) = pte(k);
        invlpg(va(7));
        if (peek(va(7) + 4) != (frame(k) | 1)) wrong++;
    }
    __asm__ volatile("cli");
    check_eq(ticks, 20, "timer: twenty ticks during table writes");
    check_eq(wrong + tick_wrong, 0, "timer: every read saw the entry just written, in the loop and the handler");
}

/* ---- 4. table writes that fault ---- */
extern char movs_at[], movs_end[], split_at[], split_end[], ro_at[], ro_end[];

static void faulting(void)
{
    t[9] = pte(1);
    maps(9, 1, true, "faults: page 9 before");
    set_handler(14, 0, 0, false);            /* the library's expect_trap from here */
    /* MOVS from an absent page into the table. */
    t[10] = 0;
    invlpg(va(10));
    expect_trap(14, (uint32_t)(movs_end - movs_at));
    uint32_t s = va(10) + 0x20, d = (uint32_t)slot(9);
    __asm__ volatile("cld\nmovs_at: movsl\nmovs_end:" : "+S"(s), "+D"(d) :: "memory");
    check_eq(last.error, 0, "faults: MOVS from an absent page: error code");
    check_eq(rd_cr2(), va(10) + 0x20, "faults: MOVS: cr2 is the source");
    check_eq(s, va(10) + 0x20, "faults: MOVS: ESI unchanged");
    check_eq(d, (uint32_t)slot(9), "faults: MOVS: EDI unchanged");
    maps(9, 1, true, "faults: MOVS: the entry is unchanged");

    /* A dword written at the table page's last two bytes runs into an absent page. */
    t[1023] = pte(2);
    expect_trap(14, (uint32_t)(split_end - split_at));
    __asm__ volatile("split_at: movl %1, 0xffe(%0)\nsplit_end:" :: "r"(DATA), "r"(0x12345678u) : "memory");
    check_eq(last.error, PFEC_W, "faults: a write off the table's page: error code");
    uint32_t cr2 = rd_cr2();
    check(cr2 >= DATA + 0xffe && cr2 <= DATA + 0x1000, "faults: its cr2 lies within the access");
    check_eq(t[1023], pte(2), "faults: the entry is unchanged");

    /* A write through a read-only data mapping of the table, with WP set. */
    expect_trap(14, (uint32_t)(ro_end - ro_at));
    __asm__ volatile("ro_at: movl %1, 36(%0)\nro_end:" :: "r"(DATA_RO), "r"(pte(3)) : "memory");
    check_eq(last.error, PFEC_P | PFEC_W, "faults: a write through a read-only mapping of the table");
    check_eq(rd_cr2(), DATA_RO + 36, "faults: its cr2");
    check_eq(traps_seen, 3, "faults: three page faults");
    pg_catch();
    maps(9, 1, true, "faults: the entry is unchanged");
}

/* ---- 5. ring 3 writing a table ---- */
static volatile uint32_t u_res;
static void user_writes(void)
{
    u_res = pg_write(DATA_USER + 11 * 4, pte(14) | PTE_U);
    RING0_RETURN();
}

static void user_writer(void)
{
    t[11] = 0;
    invlpg(va(11));
    run_user(user_writes);
    check_eq(u_res, PG_OK, "ring 3 writes an entry through a user mapping of the table");
    maps(11, 14, false, "the kernel uses the entry ring 3 wrote");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    kpd = pg_setup(PTE_P | PTE_W | PTE_U);
    do base = pg_frame(); while (base & 0xffff);
    for (unsigned k = 1; k < 16; k++) pg_frame();
    for (unsigned k = 0; k < 16; k++)
        for (unsigned j = 0; j < 1024; j++) ((uint32_t *)frame(k))[j] = frame(k) | j;
    t = (uint32_t *)pg_frame();
    kpd[PD_INDEX(TEST)] = (uint32_t)t | PTE_P | PTE_W | PTE_U;
    pg_map(kpd, DATA, (uint32_t)t, PTE_P | PTE_W);
    pg_map(kpd, DATA_RO, (uint32_t)t, PTE_P);
    pg_map(kpd, DATA_USER, (uint32_t)t, PTE_P | PTE_W | PTE_U);
    pg_map(kpd, DATA_USER + PAGE, frame(15), PTE_P | PTE_W);
    pg_enable(kpd);

    instructions();
    single_step();
    interrupted();
    faulting();
    user_writer();
    return summary("ptwrite");
}

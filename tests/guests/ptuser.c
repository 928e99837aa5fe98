/* Guest user mode on paged memory: ring 3 on user and supervisor pages (a user access to a
 * supervisor page faults with the right error code, the kernel uses user pages freely); one
 * linear page seen differently by the kernel and the user, alternately, many times; a user
 * process whose tables the kernel edits between its excursions to ring 3; and processes
 * tearing their tables down (a table full of PTEs rewritten as zeroes, once dword by dword,
 * once with REP STOSD) whose frames are then reused as plain data; and SMEP (the kernel may
 * not run code in a user page, and the fault says it was a fetch). */
#include "tests/guests/lib/paging.h"

#define OK 0xffffffffu
#define TEST 0x40000000u
#define PROC 0x48000000u          /* a process's user region: PD[0x120] */

static uint32_t *kpd;

/* A frame whose dword k holds frame | k. */
static uint32_t tagged(void)
{
    uint32_t f = pg_frame();
    for (uint32_t k = 0; k < 1024; k++) ((uint32_t *)f)[k] = f | k;
    return f;
}

static uint32_t *pte_in(uint32_t *pd, uint32_t va) { return pg_slot(pd, va, 0); }

/* ---- ring 3 probes ---- */
static uint32_t u_out;

/* Access va from ring 3: OK (value in u_out) or the #PF error code, CR2 checked. */
static uint32_t user_access(uint32_t va, bool write, uint32_t v)
{
    uint32_t u_res = pg_user(va, write, v, &u_out);
    if (u_res == PG_OK) return OK;
    if (pgf.cr2 != va || pgf.cs != UCS) return 0xbad0000 | (u_res & 0xffff);
    return u_res & ~PG_FAULT;
}

/* ---- 1. user and supervisor pages ---- */
static void user_and_supervisor(void)
{
    uint32_t s = tagged(), u = tagged(), uro = tagged();
    pg_map(kpd, TEST, s, PTE_P | PTE_W);
    pg_map(kpd, TEST + 0x1000, u, PTE_P | PTE_W | PTE_U);
    pg_map(kpd, TEST + 0x2000, uro, PTE_P | PTE_U);
    cr3_reload();
    check_eq(user_access(TEST + 0x1010, false, 0), OK, "user read of a user page");
    check_eq(u_out, u | 4, "user read: the value");
    check_eq(user_access(TEST + 0x1014, true, 0xabc), OK, "user write to a user page");
    check_eq(peek(TEST + 0x1014), 0xabc, "the kernel reads the user's write");
    poke(TEST + 0x1018, 0xdef);
    check_eq(user_access(TEST + 0x1018, false, 0), OK, "user read after a kernel write");
    check_eq(u_out, 0xdef, "the user reads the kernel's write");
    check_eq(user_access(TEST + 0x20, false, 0), PFEC_P | PFEC_U, "user read of a supervisor page");
    check_eq(user_access(TEST + 0x24, true, 1), PFEC_P | PFEC_W | PFEC_U, "user write to a supervisor page");
    check_eq(peek(TEST + 0x24), s | 9, "the supervisor page is unchanged");
    check_eq(user_access(TEST + 0x2028, false, 0), OK, "user read of a read-only user page");
    check_eq(user_access(TEST + 0x202c, true, 1), PFEC_P | PFEC_W | PFEC_U, "user write to a read-only user page");
    uint32_t r = pg_write(TEST + 0x2030, 2);
    check_eq(r, PG_FAULT | PFEC_P | PFEC_W, "kernel write to a read-only user page with WP");
    check_eq(user_access(TEST + 0x3000, false, 0), PFEC_U, "user read of an absent page");
    check_eq(user_access(TEST + 0x3004, true, 0), PFEC_W | PFEC_U, "user write to an absent page");
}

/* ---- 2. one page, two views ---- */
static void two_views(void)
{
    const uint32_t va = TEST + 0x4000;
    uint32_t f = tagged();
    pg_map(kpd, va, f, PTE_P | PTE_W);
    uint32_t *pte = pte_in(kpd, va);
    invlpg(va);
    unsigned wrong = 0;
    for (unsigned i = 0; i < 50; i++) {
        poke(va + 0x100, i);
        if (user_access(va + 0x100, false, 0) != (PFEC_P | PFEC_U)) wrong++;
        if (peek(va + 0x100) != i) wrong++;
        *pte |= PTE_U;
        invlpg(va);
        if (user_access(va + 0x100, false, 0) != OK || u_out != i) wrong++;
        if (user_access(va + 0x104, true, i * 2) != OK || peek(va + 0x104) != i * 2) wrong++;
        /* User read-only: the user's write faults, the kernel's with WP clear goes through. */
        *pte &= ~PTE_W;
        invlpg(va);
        if (user_access(va + 0x108, true, 1) != (PFEC_P | PFEC_W | PFEC_U)) wrong++;
        wr_cr0(rd_cr0() & ~CR0_WP);
        poke(va + 0x108, i * 3);
        wr_cr0(rd_cr0() | CR0_WP);
        if (user_access(va + 0x108, false, 0) != OK || u_out != i * 3) wrong++;
        *pte = (*pte | PTE_W) & ~PTE_U;
        invlpg(va);
    }
    check_eq(wrong, 0, "50 rounds of one page seen by the kernel and by the user, in turn");
}

/* ---- 3. a process whose tables the kernel edits between excursions ---- */
static uint32_t *proc_pd(void)
{
    uint32_t *pd = pg_dir();
    for (unsigned i = 0; i < 4; i++) pd[i] = kpd[i];
    return pd;
}

static void edited_between(void)
{
    uint32_t *ppd = proc_pd(), f[8];
    for (unsigned i = 0; i < 8; i++) f[i] = tagged();
    pg_map(ppd, PROC, f[0], PTE_P | PTE_W | PTE_U);
    uint32_t *pte = pte_in(ppd, PROC);
    uint32_t seed = 77;
    unsigned wrong = 0, mapped = 0, absent = 0, readonly = 0;
    for (unsigned i = 0; i < 200; i++) {
        unsigned which = xorshift32(&seed) % 10;
        uint32_t want_r, want_w, fr = f[which & 7];
        if (which == 8) { *pte = 0; want_r = PFEC_U; want_w = PFEC_U | PFEC_W; absent++; }
        else if (which == 9) { *pte = fr | PTE_P | PTE_U; want_r = OK; want_w = PFEC_P | PFEC_W | PFEC_U; readonly++; }
        else { *pte = fr | PTE_P | PTE_W | PTE_U; want_r = want_w = OK; mapped++; }
        /* From the process's own space the edit needs an INVLPG; from the kernel's, the CR3
         * load into the process flushes. */
        if (rd_cr3() == (uint32_t)ppd) invlpg(PROC);
        else wr_cr3((uint32_t)ppd);
        uint32_t k = (i * 4) & 0x3fc;
        if (user_access(PROC + k * 4, false, 0) != want_r || (want_r == OK && u_out != (fr | k))) wrong++;
        if (user_access(PROC + 0xffc, true, i) != want_w || (want_w == OK && ((uint32_t *)fr)[1023] != i)) wrong++;
        if (i % 3 == 0) wr_cr3((uint32_t)kpd);
    }
    wr_cr3((uint32_t)kpd);
    check_eq(wrong, 0, "200 excursions to ring 3 with the process's PTE edited in between");
    check(mapped && absent && readonly, "the excursions met mapped (%u), absent (%u) and read-only (%u) pages",
          mapped, absent, readonly);
}

/* ---- 4. tearing tables down ---- */
static volatile unsigned u_bad, u_faults;
static uint32_t u_frame[16];

/* Ring 3: read the first dword of every page of the process region. */
static void user_touch_all(void)
{
    for (unsigned i = 0; i < 1024; i++) {
        uint32_t v = 0, va = PROC + i * PAGE;
        uint32_t r = pg_read(va, &v);
        if (r != PG_OK) u_faults++;
        else if (v != u_frame[i % 16]) u_bad++;
    }
    RING0_RETURN();
}

static void teardown(bool rep, const char *how)
{
    uint32_t *ppd = proc_pd(), *f = u_frame;
    for (unsigned i = 0; i < 16; i++) f[i] = tagged();
    uint32_t tp = pg_frame();
    ppd[PD_INDEX(PROC)] = tp | PTE_P | PTE_W | PTE_U;
    for (unsigned i = 0; i < 1024; i++) ((uint32_t *)tp)[i] = f[i % 16] | PTE_P | PTE_W | PTE_U;
    wr_cr3((uint32_t)ppd);
    u_bad = u_faults = 0;
    run_user(user_touch_all);
    check(u_bad == 0 && u_faults == 0, "%s: the process read its 1024 pages (%u wrong, %u faults)", how, u_bad, u_faults);

    /* The kernel, in the process's space, zeroes the table as plain data. */
    if (rep) {
        uint32_t d = tp, n = 1024;
        __asm__ volatile("cld; rep stosl" : "+D"(d), "+c"(n) : "a"(0) : "memory");
    } else {
        for (unsigned i = 0; i < 1024; i++) ((volatile uint32_t *)tp)[i] = 0;
    }
    cr3_reload();
    u_bad = u_faults = 0;
    run_user(user_touch_all);
    check(u_faults == 1024, "%s: after the zeroing every page faults (%u of 1024)", how, u_faults);
    check_eq(pgf.error, PFEC_U, "%s: not present, from ring 3", how);

    /* The table's frame is free: it becomes a data page, written and read as data, also
     * through a user mapping in another directory entry. */
    ppd[PD_INDEX(PROC)] = 0;
    cr3_reload();
    for (unsigned i = 0; i < 1024; i++) ((volatile uint32_t *)tp)[i] = i * 0x01010101u ^ 0x5a5a5a5a;
    unsigned wrong = 0;
    for (unsigned i = 0; i < 1024; i++) if (((volatile uint32_t *)tp)[i] != (i * 0x01010101u ^ 0x5a5a5a5a)) wrong++;
    check_eq(wrong, 0, "%s: the old table's frame holds data written to it", how);
    pg_map(ppd, PROC + 0x400000, tp, PTE_P | PTE_W | PTE_U);
    cr3_reload();
    check_eq(user_access(PROC + 0x400000 + 0x84, false, 0), OK, "%s: the process reads it as data", how);
    check_eq(u_out, 33 * 0x01010101u ^ 0x5a5a5a5a, "%s: the data it reads", how);
    check_eq(user_access(PROC + 0x400000 + 0x88, true, 0x600d), OK, "%s: and writes it", how);
    check_eq(((volatile uint32_t *)tp)[34], 0x600d, "%s: the kernel sees that write", how);
    check_eq(user_access(PROC + 0x10, false, 0), PFEC_U, "%s: the torn-down region stays absent", how);
    wr_cr3((uint32_t)kpd);
}

/* ---- 5. SMEP: the kernel calls code in a user page ---- */
static volatile uint32_t smep_error, smep_cr2, smep_eip;
extern char smep_back[];
/* The #PF of a fetch: record it and resume after the call (ESP is restored there). */
static void smep_fault(struct gframe *f)
{
    smep_error = f->error;
    smep_cr2 = rd_cr2();
    smep_eip = f->eip;
    f->eip = (uint32_t)smep_back;
}

/* Call the code at va from ring 0: what it returns in EAX, or 0 when the call faulted. */
__attribute__((noinline)) static uint32_t kernel_call(uint32_t va)
{
    uint32_t r = 0;
    __asm__ volatile("push %%ebp; mov %%esp, %%ebp; call *%1; smep_back: mov %%ebp, %%esp; pop %%ebp"
                     : "+a"(r) : "r"(va) : "ecx", "edx", "memory");
    return r;
}

/* The kernel's code pages (identity-mapped as user pages by pg_setup) made supervisor-only,
 * or user again: under SMEP the kernel runs only from supervisor pages. */
extern char text_start[], text_end[];
static void kernel_text_user(bool user)
{
    for (uint32_t va = (uint32_t)text_start & ~(PAGE - 1); va < (uint32_t)text_end; va += PAGE) {
        uint32_t *pte = pte_in(kpd, va);
        *pte = user ? (*pte | PTE_U) : (*pte & ~PTE_U);
        invlpg(va);
    }
}

static void smep(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    if (!(b & (1u << 7))) { gprintf("no SMEP on this CPU\n"); return; }
    uint32_t code = pg_frame();
    static const uint8_t ret5a[] = { 0xb8, 0x5a, 0, 0, 0, 0xc3 };     /* mov $0x5a, %eax; ret */
    memcpy((void *)code, ret5a, sizeof ret5a);
    pg_map(kpd, TEST + 0x10000, code, PTE_P | PTE_U);
    pg_map(kpd, TEST + 0x11000, code, PTE_P);
    invlpg(TEST + 0x10000); invlpg(TEST + 0x11000);
    set_handler(14, smep_fault, 0, false);
    check_eq(kernel_call(TEST + 0x10000), 0x5a, "SMEP off: the kernel runs code in a user page");
    kernel_text_user(false);
    wr_cr4(rd_cr4() | CR4_SMEP);
    check_eq(kernel_call(TEST + 0x11000), 0x5a, "SMEP on: the kernel runs code in its own page");
    smep_error = 0xbad;
    check_eq(kernel_call(TEST + 0x10000), 0, "SMEP on: code in a user page does not run");
    check_eq(smep_error, PFEC_P | PFEC_I, "#PF error code: present, instruction fetch");
    check_eq(smep_cr2, TEST + 0x10000, "CR2 the user page");
    check_eq(smep_eip, TEST + 0x10000, "EIP the fetch");
    check_eq(peek(TEST + 0x10000) & 0xff, 0xb8, "SMEP on: the kernel still reads the user page");
    wr_cr4(rd_cr4() & ~CR4_SMEP);
    kernel_text_user(true);
    check_eq(kernel_call(TEST + 0x10000), 0x5a, "SMEP off again: it runs");
    pg_catch();
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    kpd = pg_setup(PTE_P | PTE_W | PTE_U);
    pg_enable(kpd);

    user_and_supervisor();
    two_views();
    edited_between();
    teardown(false, "teardown by dwords");
    teardown(true, "teardown by REP STOSD");
    smep();
    return summary("ptuser");
}

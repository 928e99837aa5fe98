/* pgos init: the process side of demand paging. Every check prints the value it saw; the
 * kernel prints the page faults of the stretches run with tracing on. Exit status: the number
 * of checks that failed. No library: the compiler must not call memset/memcpy here (they
 * live in the kernel), so loops stay loops. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include "sys.h"

extern uint32_t sys(uint32_t n, uint32_t a, uint32_t b, uint32_t c);
extern uint32_t call_on_stack(uint32_t (*fn)(void), uint32_t top);
extern void urep_movsb(void *d, const void *s, uint32_t n);
extern uint32_t straddle(void);
int umain(void);

static unsigned errors;
static uint32_t counter = 5;
static uint32_t big_bss[3 * 1024];
static uint32_t shared_buf[2048] = { 1 };
static volatile uint32_t cow_page[1024] __attribute__((aligned(4096))) = { 0x11111111 };
static volatile uint32_t nowp_page[1024] __attribute__((aligned(4096))) = { 0x22222222 };

/* ---- output ------------------------------------------------------------------------------ */

static void say(const char *fmt, ...)
{
    char b[160];
    unsigned n = 0;
    va_list ap;
    va_start(ap, fmt);
    for (const char *p = fmt; *p && n < sizeof b - 12; p++) {
        if (*p != '%') { b[n++] = *p; continue; }
        char c = *++p;
        if (c == 's') {
            for (const char *s = va_arg(ap, const char *); *s && n < sizeof b - 12; s++) b[n++] = *s;
        } else if (c == 'x') {
            uint32_t v = va_arg(ap, uint32_t);
            for (int i = 28; i >= 0; i -= 4) b[n++] = "0123456789abcdef"[(v >> i) & 15];
        } else if (c == 'u') {
            uint32_t v = va_arg(ap, uint32_t);
            char t[10];
            int k = 0;
            do { t[k++] = (char)('0' + v % 10); v /= 10; } while (v);
            while (k) b[n++] = t[--k];
        }
    }
    va_end(ap);
    sys(SYS_WRITE, (uint32_t)b, n, 0);
}

static void check(const char *what, uint32_t got, uint32_t want)
{
    if (got == want) { say("  %s = %x\n", what, got); return; }
    say("  %s = %x  <-- expected %x\n", what, got, want);
    errors++;
}

static uint32_t getpid(void) { return sys(SYS_GETPID, 0, 0, 0); }
static uint32_t fork(void) { return sys(SYS_FORK, 0, 0, 0); }
static uint32_t wait(uint32_t *st) { return sys(SYS_WAIT, (uint32_t)st, 0, 0); }
static void exit(uint32_t c) __attribute__((noreturn));
static void exit(uint32_t c) { sys(SYS_EXIT, c, 0, 0); for (;;) {} }
static uint32_t pte(const volatile void *p) { return sys(SYS_PTE, (uint32_t)p, 0, 0); }
static uint32_t stat(uint32_t k) { return sys(SYS_STAT, k, 0, 0); }
static uint32_t mmap(uint32_t a, uint32_t n) { return sys(SYS_MMAP, a, n, 0); }
static uint32_t munmap(uint32_t a, uint32_t n) { return sys(SYS_MUNMAP, a, n, 0); }
static void trace(uint32_t on) { sys(SYS_TRACE, on, 0, 0); }
static uint32_t nfree(void) { return sys(SYS_FREE, 0, 0, 0); }

/* ---- tests ------------------------------------------------------------------------------- */

static void t_image(void)
{
    say("[image pages]\n");
    check("text pte, fetched", pte((void *)umain), 0x025);
    uint32_t f0 = stat(ST_FILE);
    check("data pte, untouched", pte(&counter), 0);
    uint32_t v = *(volatile uint32_t *)&counter;
    check("data value", v, 5);
    check("data pte after a read", pte(&counter), 0x027);
    *(volatile uint32_t *)&counter = v + 1;
    check("data pte after a write", pte(&counter), 0x067);
    check("pages read from the image", stat(ST_FILE) - f0, 1);
    check("bss pte, untouched", pte(&big_bss[1024]), 0);
    check("bss value", ((volatile uint32_t *)big_bss)[1024 + 5], 0);
    check("bss pte after a read", pte(&big_bss[1024]), 0x027);
    ((volatile uint32_t *)big_bss)[1024 + 6] = 1;
    check("bss pte after a write", pte(&big_bss[1024]), 0x067);
}

static uint32_t leaf(void) { return 0x1eaf; }

static void t_faults(void)
{
    say("[faults the kernel traces]\n");
    check("mmap", mmap(0x50000000u, 0x2000), 0x50000000u);
    say(" a call whose push lands on a fresh page:\n");
    trace(1);
    uint32_t r = call_on_stack(leaf, 0x50002000u);
    trace(0);
    check("leaf", r, 0x1eaf);
    check("stack page pte", pte((void *)0x50001000u), 0x067);
    check("page below", pte((void *)0x50000000u), 0);
    munmap(0x50000000u, 0x2000);
    say(" an instruction across two fresh text pages:\n");
    trace(1);
    r = straddle();
    trace(0);
    check("straddle", r, 0x5eed1234);
    say(" rep movsb into fresh pages, from a fresh data page:\n");
    check("mmap", mmap(0x51000000u, 0x6000), 0x51000000u);
    trace(1);
    urep_movsb((void *)0x51000800u, shared_buf, 0x1900);
    say(" the kernel's rep movsb into fresh pages:\n");
    uint32_t n = sys(SYS_READ_AT, 0x51003ff0u, 0x20, 0);
    trace(0);
    check("read_at", n, 0x20);
    check("copied, first word", *(volatile uint32_t *)0x51000800u, 1);
    check("copied, a word on the third page", ((volatile uint32_t *)0x51000800u)[0x1800 / 4], shared_buf[0x1800 / 4]);
    check("kernel copied", *(volatile uint32_t *)0x51004000u, 0x6a696867);     /* "ghij" */
    munmap(0x51000000u, 0x6000);
}

static void t_cow(void)
{
    say("[fork and copy-on-write]\n");
    for (uint32_t i = 0; i < 2048; i++) shared_buf[i] = i * 3 + 1;
    uint32_t c0 = stat(ST_COW_COPY), r0 = stat(ST_COW_REUSE);
    check("parent pte before fork", pte(&shared_buf[0]), 0x067);
    uint32_t pid = fork();
    if (pid == 0) {
        check("child pte before writing", pte(&shared_buf[0]), 0x265);
        uint32_t sum = 0;
        for (uint32_t i = 0; i < 2048; i++) sum += shared_buf[i];
        check("child sum", sum, 2048u * 2047u / 2u * 3u + 2048u);
        shared_buf[0] = 0xc0ffee;
        check("child pte after writing", pte(&shared_buf[0]), 0x067);
        check("child value", shared_buf[0], 0xc0ffee);
        exit(3);
    }
    check("parent pte after fork", pte(&shared_buf[0]), 0x265);
    uint32_t st = 0, w = wait(&st);
    check("waited for", w, pid);
    check("status", st, 3);
    check("parent value", shared_buf[0], 1);
    shared_buf[1] = 7;
    check("parent pte after writing alone", pte(&shared_buf[0]), 0x067);
    say("  copies %u, taken back %u\n", stat(ST_COW_COPY) - c0, stat(ST_COW_REUSE) - r0);

    say(" the kernel writes into a shared page (CR0.WP set):\n");
    check("parent reads", cow_page[0], 0x11111111);
    pid = fork();
    if (pid == 0) {
        trace(1);
        uint32_t r = sys(SYS_PUTPID, (uint32_t)&cow_page[0], 0, 0);
        trace(0);
        check("putpid", r, 0);
        check("child sees its pid", cow_page[0], getpid());
        exit(0);
    }
    wait(&st);
    check("parent still sees", cow_page[0], 0x11111111);
    say(" the kernel writes into a shared page with CR0.WP clear (no fault, both see it):\n");
    check("parent reads", nowp_page[0], 0x22222222);
    pid = fork();
    if (pid == 0) {
        trace(1);
        uint32_t r = sys(SYS_POKE_NOWP, (uint32_t)&nowp_page[0], 0xbad, 0);
        trace(0);
        check("poke", r, 0);
        exit(0);
    }
    check("parent pte", pte(&nowp_page[0]) & ~0x060u, 0x205);
    wait(&st);
    check("parent sees the child's write", nowp_page[0], 0xbad);
}

static void child_and_wait(const char *what, void (*fn)(void), uint32_t want)
{
    uint32_t st = 0;
    if (fork() == 0) { fn(); exit(0); }
    wait(&st);
    check(what, st, want);
}
/* an address the compiler cannot see through */
static volatile uint32_t *addr(uint32_t a) { __asm__("" : "+r"(a)); return (volatile uint32_t *)a; }
static void bad_text_write(void) { *addr((uint32_t)umain) = 0; }
static void bad_low_read(void) { (void)*addr(0x10); }
static void bad_kernel_read(void) { (void)*addr(0x80100000u); }
static void bad_jump(void) { ((void (*)(void))0x60000000u)(); }

static void t_segv(void)
{
    say("[bad accesses]\n");
    child_and_wait("write to text", bad_text_write, 139);
    child_and_wait("read of page 0", bad_low_read, 139);
    child_and_wait("read of the kernel", bad_kernel_read, 139);
    child_and_wait("jump to nothing", bad_jump, 139);
    check("write(bad pointer)", sys(SYS_WRITE, 0x1000, 4, 0), (uint32_t)-EFAULT);
    check("write(kernel pointer)", sys(SYS_WRITE, 0x80100000u, 4, 0), (uint32_t)-EFAULT);
    check("putpid(bad pointer)", sys(SYS_PUTPID, 0x2000, 0, 0), (uint32_t)-EFAULT);
    check("putpid(text)", sys(SYS_PUTPID, (uint32_t)umain, 0, 0), (uint32_t)-EFAULT);
}

static void busy_child(void)
{
    volatile uint32_t local[1500];
    for (uint32_t i = 0; i < 1500; i += 100) local[i] = i;
    shared_buf[5] = getpid();
    uint32_t s = 0;
    for (uint32_t i = 0; i < 1500; i += 100) s += local[i];
    exit(s == 10500 ? 42 : 1);
}

/* A page directory freed by wait() is the next frame handed out: as a data page the process
 * writes (its table already there), or as that page's new table; then a new child's
 * directory is the frame just freed again. */
static void t_reuse(void)
{
    say("[page directories reused]\n");
    check("mmap keeper", mmap(0x523ff000u, 0x1000), 0x523ff000u);
    for (uint32_t round = 0; round < 6; round++) {
        bool keep = !(round & 1);
        if (keep) {
            *(volatile uint32_t *)0x523ff000u = round;
        } else {
            munmap(0x523ff000u, 0x1000);            /* its table goes too */
            check("mmap keeper again", mmap(0x523ff000u, 0x1000), 0x523ff000u);
        }
        uint32_t st = 0, pid = fork();
        if (pid == 0) exit(40 + round);
        check("child status", (wait(&st), st), 40 + round);
        check("mmap", mmap(0x52000000u, 0x1000), 0x52000000u);
        volatile uint32_t *p = (volatile uint32_t *)0x52000000u;
        uint32_t z = 0;
        for (uint32_t i = 0; i < 1024; i++) z |= p[i];
        check("zero-filled", z, 0);
        check(keep ? "data page is the old directory" : "its table is the old directory",
              sys(SYS_FRAMEOF, 0x52000000u, keep ? 0 : 1, 0), 1);
        for (uint32_t i = 0; i < 1024; i++) p[i] = (i * 0x01010101u) ^ round;
        uint32_t sum = 0;
        for (uint32_t i = 0; i < 1024; i++) sum += p[i];
        uint32_t want = 0;
        for (uint32_t i = 0; i < 1024; i++) want += (i * 0x01010101u) ^ round;
        check("sum", sum, want);
        munmap(0x52000000u, 0x1000);
        pid = fork();
        if (pid == 0) busy_child();
        check("busy child", (wait(&st), st), 42);
    }
    munmap(0x523ff000u, 0x1000);
}

static void t_loop(void)
{
    say("[mmap and munmap, 3000 times]\n");
    uint32_t free0 = nfree(), d0 = stat(ST_DEMAND), p0 = stat(ST_PT_FREED), k0 = stat(ST_KFAULT_USER);
    uint32_t acc = 0, want = 0, nonzero = 0, bad = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        uint32_t base = 0x40000000u + (i % 7) * 0x3000u + (i % 3 == 0 ? 0x3fc000u : 0);
        uint32_t np = 1 + i % 4;
        if (mmap(base, np * 4096) != base) { bad++; continue; }
        for (uint32_t k = 0; k < np; k++) {
            volatile uint32_t *q = (volatile uint32_t *)(base + k * 4096);
            if (i % 250 == 0 && k == np - 1) {
                /* the kernel touches this page first */
                if (sys(SYS_READ_AT, (uint32_t)q + 100, 16, 0) != 16) bad++;
                acc += q[25];
                want += 0x33323130;
                continue;
            }
            nonzero += q[(i * 7 + k) % 1024] != 0;
            q[(i * 13 + k) % 1024] = i ^ (k << 16);
            acc += q[(i * 13 + k) % 1024];
            want += i ^ (k << 16);
        }
        if (munmap(base, np * 4096)) bad++;
    }
    check("sum", acc, want);
    check("non-zero words in fresh pages", nonzero, 0);
    check("failed calls", bad, 0);
    check("frames free as before", nfree(), free0);
    say("  demand-zero faults %u, tables freed %u, kernel faults on user pages %u\n",
        stat(ST_DEMAND) - d0, stat(ST_PT_FREED) - p0, stat(ST_KFAULT_USER) - k0);
}

static void worker(uint32_t k)
{
    uint32_t base = 0x30000000u + k * 0x10000u;
    mmap(base, 0x4000);
    for (uint32_t r = 0; r < 4; r++) {
        ((volatile uint32_t *)(base + r * 0x1000))[k] = k * 100 + r;
        shared_buf[k * 8 + r] = k;
        sys(SYS_YIELD, 0, 0, 0);
    }
    uint32_t s = 0;
    for (uint32_t r = 0; r < 4; r++) s += ((volatile uint32_t *)(base + r * 0x1000))[k];
    if (k % 4 == 0) {
        uint32_t st = 0;
        if (fork() == 0) { shared_buf[0] = 99; exit(7); }
        wait(&st);
        s += st;
    }
    exit(s & 0xff);
}

static void t_procs(void)
{
    say("[twelve processes taking turns]\n");
    uint32_t free0 = nfree();
    uint32_t pids[12];
    for (uint32_t k = 0; k < 12; k++) {
        pids[k] = fork();
        if (pids[k] == 0) worker(k);
    }
    uint32_t total = 0;
    for (uint32_t k = 0; k < 12; k++) {
        uint32_t st = 0, w = wait(&st);
        say("  reaped pid %u status %u\n", w, st);
        total += st;
    }
    uint32_t want = 0;
    for (uint32_t k = 0; k < 12; k++) want += ((k * 400 + 6) + (k % 4 == 0 ? 7 : 0)) & 0xff;
    check("statuses", total, want);
    check("no more children", wait(0), (uint32_t)-ECHILD);
    check("frames free as before", nfree(), free0);
}

/* ---- the preemptive part: six processes whose results do not depend on who runs when ---- */

static uint32_t sleep_ticks(uint32_t n) { return sys(SYS_SLEEP, n, 0, 0); }
static uint32_t waitpid(uint32_t pid, uint32_t *st) { return sys(SYS_WAITPID, pid, (uint32_t)st, 0); }

static uint32_t w_maps(void)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < 300; i++) {
        uint32_t base = 0x20000000u + (i % 5) * 0x2000u + (i % 2 ? 0x3fe000u : 0), np = 1 + i % 3;
        if (mmap(base, np * 4096) != base) return 0xbad;
        for (uint32_t k = 0; k < np; k++) {
            volatile uint32_t *q = (volatile uint32_t *)(base + k * 4096);
            q[(i + k) % 1024] = i * 31 + k;
            acc += q[(i + k) % 1024] + q[(i + k + 1) % 1024];
        }
        munmap(base, np * 4096);
    }
    return acc;
}

static uint32_t w_copy(void)
{
    uint32_t src = 0x21000000u, dst = 0x21800000u, acc = 0;
    mmap(src, 0x10000);
    mmap(dst, 0x10000);
    for (uint32_t i = 0; i < 0x4000; i++) ((volatile uint32_t *)src)[i] = i * 2654435761u;
    for (uint32_t r = 0; r < 8; r++) {
        urep_movsb((void *)(dst + r), (const void *)src, 0x10000 - 8);
        for (uint32_t i = 0; i < 0x10000 - 8; i += 251) acc += ((volatile uint8_t *)dst)[i] * (r + 1);
    }
    munmap(src, 0x10000);
    munmap(dst, 0x10000);
    return acc;
}

static uint32_t w_cow(void)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < 2048; i++) shared_buf[i] = i;
    for (uint32_t r = 0; r < 6; r++) {
        uint32_t pid = fork();
        if (pid == 0) {
            uint32_t s = 0;
            for (uint32_t i = 1; i < 2048; i += 2) { shared_buf[i] += r; s += shared_buf[i]; }
            exit(s);
        }
        for (uint32_t i = 0; i < 2048; i += 2) shared_buf[i] += r;
        uint32_t st = 0;
        waitpid(pid, &st);
        acc += st;
        for (uint32_t i = 0; i < 2048; i++) acc += shared_buf[i];
    }
    return acc;
}

static uint32_t deep(uint32_t n)
{
    volatile uint32_t frame[256];
    frame[n % 256] = n;
    return n ? deep(n - 1) + frame[n % 256] : 0;
}

static uint32_t w_sleepy(void)
{
    uint32_t acc = 0;
    for (uint32_t r = 0; r < 4; r++) { sleep_ticks(3); acc += deep(20 * r); }
    return acc + 77;
}

static uint32_t w_stack(void) { return deep(100); }

static uint32_t w_kcopy(void)
{
    uint32_t base = 0x23000000u, acc = 0;
    mmap(base, 0x8000);
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t at = base + (i * 509) % (0x8000 - 64);
        sys(SYS_READ_AT, at, 64, 0);
        acc += *(volatile uint32_t *)(at + (i % 60)) * (i + 1);
    }
    munmap(base, 0x8000);
    return acc;
}

static void t_preempt(void)
{
    say("[preempted by the timer]\n");
    static uint32_t (*const work[])(void) = { w_maps, w_copy, w_cow, w_sleepy, w_stack, w_kcopy };
    static const char *const names[] = { "maps", "copy", "cow", "sleepy", "stack", "kcopy" };
    uint32_t free0 = nfree(), pids[6], st[6];
    sys(SYS_PREEMPT, 1, 0, 0);
    for (uint32_t k = 0; k < 6; k++) {
        pids[k] = fork();
        if (pids[k] == 0) exit(work[k]());
    }
    sleep_ticks(5);
    for (uint32_t k = 0; k < 6; k++) waitpid(pids[k], &st[k]);
    sys(SYS_PREEMPT, 0, 0, 0);
    check("frames free as before", nfree(), free0);
    say(" the same work again, alone:\n");
    for (uint32_t k = 0; k < 6; k++) {
        char what[24] = "worker ";
        for (uint32_t i = 0; names[k][i]; i++) what[7 + i] = names[k][i];
        check(what, st[k], work[k]());
    }
}

int umain(void)
{
    say("init: pid %u\n", getpid());
    t_image();
    t_faults();
    t_cow();
    t_segv();
    t_reuse();
    t_loop();
    t_procs();
    t_preempt();
    say("init: %u errors\n", errors);
    return (int)errors;
}

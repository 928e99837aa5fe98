/* hobbyos user program: one image, linked at 0x40000000 and mapped read-only into every
 * process; each process learns from its own info page (same address, different frame)
 * who it is and which part it plays. Lines are printed only through system calls. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")   /* no hidden memset calls */
#include "layout.h"

typedef unsigned u32;

#define INFO ((struct uinfo *)UINFO)
#define WORK ((volatile u32 *)UWORK)

static inline u32 sys(u32 n, u32 a, u32 b)
{
    u32 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b) : "memory");
    return r;
}

struct line {
    u32 n;
    char b[200];
};

static void put(struct line *l, const char *s)
{
    while (*s && l->n < sizeof l->b - 1)
        l->b[l->n++] = *s++;
}

static void hex(struct line *l, u32 v, int digits)
{
    while (digits--)
        if (l->n < sizeof l->b - 1)
            l->b[l->n++] = "0123456789abcdef"[(v >> (4 * digits)) & 0xf];
}

static void dec(struct line *l, u32 v)
{
    char t[10];
    int k = 0;
    do {
        t[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k && l->n < sizeof l->b - 1)
        l->b[l->n++] = t[--k];
}

/* Print the line with the process's name in front, and start a new one. */
static void emit(struct line *l)
{
    l->b[l->n++] = '\n';
    sys(SYS_WRITE, (u32)l->b, l->n);
    l->n = 0;
}

static void begin(struct line *l)
{
    l->n = 0;
    put(l, INFO->name);
    put(l, ": ");
}

static void yield(void) { sys(SYS_YIELD, 0, 0); }

static u32 pattern(u32 pid, u32 i) { return (pid * 0x01010101u) ^ (i * 2654435761u); }

static void fill_work(u32 pid)
{
    for (u32 i = 0; i < 1024; i++)
        WORK[i] = pattern(pid, i);
}

/* Words of the work page that still hold the pattern, and their sum. */
static u32 check_work(u32 pid, u32 *sum)
{
    u32 good = 0, s = 0;
    for (u32 i = 0; i < 1024; i++) {
        u32 w = WORK[i];
        good += w == pattern(pid, i);
        s += w;
    }
    *sum = s;
    return good;
}

static void report_work(struct line *l, u32 pid)
{
    u32 sum, good = check_work(pid, &sum);
    begin(l);
    put(l, "work page holds my pattern in ");
    dec(l, good);
    put(l, "/1024 words, sum ");
    hex(l, sum, 8);
    emit(l);
}

/* Spin in user mode until the timer has interrupted this process n times. */
static void spin_until(u32 n)
{
    while (INFO->ticks_in_user < n)
        WORK[0] = WORK[0];
}

static inline unsigned char inb(u32 port)
{
    unsigned char v;
    __asm__ volatile("inb %w1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(u32 port, unsigned char v)
{
    __asm__ volatile("outb %0, %w1" : : "a"(v), "Nd"(port));
}

/* Straight to COM1, through the ports the TSS's I/O bitmap lets every process use. */
static void uart_direct(const char *s)
{
    for (; *s; s++) {
        for (u32 spin = 0; !(inb(UART_LSR) & 0x20) && spin < 100000; spin++)
            ;
        outb(UART_DATA, (unsigned char)*s);
    }
}

/* A number kept on the x87 stack across system calls and preemption (lazy FPU switching). */
static void fpu_push(u32 v) { __asm__ volatile("fildl %0" : : "m"(v)); }

static u32 fpu_pop_plus(u32 add)
{
    u32 r;
    __asm__ volatile("fiaddl %1; fistpl %0" : "=m"(r) : "m"(add));
    return r;
}

static void fpu_report(struct line *l)
{
    u32 v = fpu_pop_plus(7);
    begin(l);
    put(l, "the x87 kept my number across the switches: ");
    dec(l, v);
    emit(l);
}

static u32 eflags(void)
{
    u32 f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

static void hello(struct line *l)
{
    u32 pid = sys(SYS_GETPID, 0, 0);
    begin(l);
    put(l, "hello, getpid ");
    dec(l, pid);
    put(l, ", info page pid ");
    dec(l, INFO->pid);
    put(l, ", motto '");
    put(l, INFO->motto);
    put(l, "'");
    emit(l);
}

static void template_line(struct line *l, u32 off)
{
    begin(l);
    put(l, "template+");
    hex(l, off, 2);
    put(l, " reads '");
    put(l, (const char *)(UTMPL + off));
    put(l, "'");
    emit(l);
}

/* What user mode may learn of a selector: LAR, LSL, VERR, VERW (ZF and the values). */
static void seg_probe(struct line *l, u32 sel)
{
    u32 ar = 0xffffffffu, lim = 0xffffffffu;
    unsigned char zl, zs, zr, zw;
    __asm__ volatile("lar %w2, %0; setz %1" : "+r"(ar), "=q"(zl) : "r"(sel) : "cc");
    __asm__ volatile("lsl %w2, %0; setz %1" : "+r"(lim), "=q"(zs) : "r"(sel) : "cc");
    __asm__ volatile("verr %w1; setz %0" : "=q"(zr) : "r"(sel) : "cc");
    __asm__ volatile("verw %w1; setz %0" : "=q"(zw) : "r"(sel) : "cc");
    begin(l);
    put(l, "selector ");
    hex(l, sel, 4);
    put(l, ": lar ");
    if (zl) hex(l, ar, 8); else put(l, "-");
    put(l, " lsl ");
    if (zs) hex(l, lim, 8); else put(l, "-");
    put(l, zr ? " readable" : " not readable");
    put(l, zw ? " writable" : " not writable");
    emit(l);
}

/* The descriptor-table registers and the machine status word, from user mode. */
static void tables_from_user(struct line *l)
{
    struct __attribute__((packed)) { unsigned short limit; u32 base; } g, i;
    u32 tr = 0xffffffffu, ldt = 0xffffffffu, msw = 0xffffffffu;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
    __asm__ volatile("str %0; sldt %1; smsw %2" : "+r"(tr), "+r"(ldt), "+r"(msw));
    begin(l);
    put(l, "sgdt ");
    hex(l, g.base, 8);
    put(l, "/");
    hex(l, g.limit, 4);
    put(l, " sidt ");
    hex(l, i.base, 8);
    put(l, "/");
    hex(l, i.limit, 4);
    put(l, " str ");
    hex(l, tr, 8);
    put(l, " sldt ");
    hex(l, ldt, 8);
    put(l, " smsw ");
    hex(l, msw & 0xfff7, 4);        /* without TS: who used the x87 last is the timer's doing */
    emit(l);
}

static void alpha(struct line *l)
{
    hello(l);
    tables_from_user(l);
    static const unsigned short sels[] = { SEL_TSS, SEL_KCODE, SEL_KDATA, SEL_UDATA, SEL_UCODE,
                                           SEL_KDATA | 3, SEL_LDT, SEL_LDT_TLS, SEL_LDT_KDATA | 3,
                                           0x40, 0x0 };
    for (u32 k = 0; k < sizeof sels / sizeof sels[0]; k++)
        seg_probe(l, sels[k]);
    /* Kernel segments, from user mode: each load and the far jump is a #GP(selector). */
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%ds" : : "i"(SEL_KDATA | 3) : "eax", "memory");
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%ss" : : "i"(SEL_KDATA) : "eax", "memory");
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%es" : : "i"(SEL_KCODE) : "eax", "memory");
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_KCODE) : "memory");
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%fs" : : "i"(SEL_TSS) : "eax", "memory");
    u32 ds, es, ss0;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%ss, %2" : "=r"(ds), "=r"(es), "=r"(ss0));
    begin(l);
    put(l, "after the kernel selectors: ds ");
    hex(l, ds & 0xffff, 4);
    put(l, " es ");
    hex(l, es & 0xffff, 4);
    put(l, " ss ");
    hex(l, ss0 & 0xffff, 4);
    emit(l);
    u32 f = eflags();
    /* POPF without IF at CPL3, IOPL 0: IF stays as it was, no fault. */
    __asm__ volatile("pushfl; andl $~0x200, (%%esp); popfl" : : : "memory", "cc");
    u32 g = eflags();
    begin(l);
    put(l, "eflags IF=");
    dec(l, (f >> 9) & 1);
    put(l, " IOPL=");
    dec(l, (f >> 12) & 3);
    put(l, "; after popf without IF: IF=");
    dec(l, (g >> 9) & 1);
    emit(l);
    /* The I/O bitmap: COM1 yes, the 8259 no; HLT is never for user mode. */
    uart_direct("alpha: straight to the UART through the I/O bitmap\n");
    u32 pic = 0x5a;
    __asm__ volatile("inb $0x21, %b0" : "+a"(pic));
    __asm__ volatile("hlt");
    begin(l);
    put(l, "the 8259's mask port read as ");
    hex(l, pic & 0xff, 2);
    put(l, " (unchanged: it faulted)");
    emit(l);
    yield();

    fpu_report(l);
    __asm__ volatile("cli");
    __asm__ volatile("sti");
    __asm__ volatile("int $0x81");
    begin(l);
    put(l, "came back after CLI, STI and INT 0x81");
    emit(l);
    __asm__ volatile("int3\n\tnop\n\txchg %%ebx, %%ebx\n\tlea 0(%%esi), %%esi\n\tnop" : : : "memory");
    u32 q = 0x12345678;
    __asm__ volatile("xor %%edx, %%edx; xor %%ecx, %%ecx; div %%ecx" : "+a"(q) : : "ecx", "edx", "cc");
    __asm__ volatile("mov $0x7fffffff, %%eax; add $1, %%eax; into" : : : "eax", "cc");
    __asm__ volatile("ud2");
    __asm__ volatile("xorps %%xmm0, %%xmm0" : : : "memory");
    /* CR4.TSD: RDTSC is the kernel's only. */
    u32 lo = 0x11111111u, hi = 0x22222222u;
    __asm__ volatile("rdtsc" : "+a"(lo), "+d"(hi));
    begin(l);
    put(l, "rdtsc left eax ");
    hex(l, lo, 8);
    put(l, " edx ");
    hex(l, hi, 8);
    emit(l);
    begin(l);
    put(l, "came back after INT3, three steps, DIV by 0, INTO, UD2 and XORPS");
    emit(l);
    u32 n = sys(SYS_IDENT, UTMPL + 0x40, 64);
    begin(l);
    put(l, "ident gave ");
    dec(l, n);
    put(l, " bytes: '");
    put(l, (const char *)(UTMPL + 0x40));
    put(l, "'");
    emit(l);
    template_line(l, 0);
    yield();

    /* Segment registers: a null FS is allowed and survives the kernel; the kernel's
     * data selector is not (#GP with the selector as the error code, skipped). */
    u32 cs, ss, fs;
    __asm__ volatile("xor %%eax, %%eax; mov %%ax, %%fs\n\t"
                     "mov %3, %%eax; mov %%ax, %%gs\n\t"
                     "mov %%cs, %0; mov %%ss, %1"
                     : "=r"(cs), "=r"(ss), "=&a"(fs) : "i"(SEL_KDATA) : "memory");
    sys(SYS_GETPID, 0, 0);
    __asm__ volatile("mov %%fs, %0" : "=r"(fs));
    u32 gs;
    __asm__ volatile("mov %%gs, %0" : "=r"(gs));
    begin(l);
    put(l, "cs ");
    hex(l, cs & 0xffff, 4);
    put(l, " ss ");
    hex(l, ss & 0xffff, 4);
    put(l, ", fs after a system call ");
    hex(l, fs & 0xffff, 4);
    put(l, ", gs still ");
    hex(l, gs & 0xffff, 4);
    emit(l);
    u32 r = sys(SYS_SLEEP, 5, 0);
    begin(l);
    put(l, "sleep(5) returned ");
    dec(l, r);
    emit(l);
    yield();

    report_work(l, 1);
    r = sys(99, 0, 0);
    begin(l);
    put(l, "system call 99 returned ");
    hex(l, r, 8);
    emit(l);
    yield();

    begin(l);
    put(l, "the others are gone; exiting");
    emit(l);
    sys(SYS_EXIT, 0, 0);
}

/* getpid through SYSENTER. The kernel's fast path comes back with its own DS and FS still
 * loaded (FS based at the info page): one load goes through FS (interrupts are off until the
 * next INT 0x80, so nothing can null it first), then DS, ES, FS, CS (far jump) and SS
 * return to the usual selectors. */
static void fast_getpid(struct line *l)
{
    u32 pid, through, fl = 0, cs = 0, ss = 0;
    __asm__ volatile("mov %%esp, %%ecx\n\t"
                     "lea 1f, %%edx\n\t"
                     "sysenter\n"
                     "1:\n\t"
                     "mov %%fs:4, %1\n\t"
                     "pushfl; popl %2\n\t"
                     "movw %%cs, %3\n\t"
                     "movw %%ss, %4\n\t"
                     "mov %5, %%ecx; mov %%cx, %%ds; mov %%cx, %%es\n\t"
                     "xor %%edx, %%edx; mov %%dx, %%fs\n\t"
                     "ljmp %6, $2f\n"
                     "2:\n\t"
                     "mov %%cx, %%ss"
                     : "=a"(pid), "=&D"(through), "+m"(fl), "+m"(cs), "+m"(ss)
                     : "i"(SEL_UDATA), "i"(SEL_UCODE), "a"(SYS_GETPID)
                     : "ecx", "edx", "ebx", "memory", "cc");
    begin(l);
    put(l, "sysenter getpid gave ");
    dec(l, pid);
    put(l, "; after sysexit cs ");
    hex(l, cs & 0xffff, 4);
    put(l, " ss ");
    hex(l, ss & 0xffff, 4);
    put(l, " IF ");
    dec(l, (fl >> 9) & 1);
    put(l, ", a load through the kernel's FS (my role) read ");
    hex(l, through, 8);
    emit(l);
}

static void bravo(struct line *l)
{
    hello(l);
    fast_getpid(l);
    yield();

    fpu_report(l);
    template_line(l, 0);
    char *t = (char *)(UTMPL + 0x20);
    const char *mine = "bravo was here";
    u32 i = 0;
    do
        t[i] = mine[i];
    while (mine[i++]);
    template_line(l, 0x20);
    yield();

    report_work(l, 2);
#ifdef HOBBYOS_IOPL
    /* With IOPL 3 (iopl(3)), user mode owns IF and every port: PUSHF shows IOPL 3, POPF and
     * CLI/STI change IF, IN works on any port. */
    sys(SYS_IOPL, 3, 0);
    u32 a = eflags();
    __asm__ volatile("cli");
    u32 b = eflags();
    __asm__ volatile("pushfl; orl $0x200, (%%esp); popfl" : : : "memory", "cc");
    u32 c = eflags();
    __asm__ volatile("pushfl; andl $~0x200, (%%esp); popfl" : : : "memory", "cc");
    u32 d = eflags();
    __asm__ volatile("sti");
    u32 e = eflags();
    u32 mask = inb(0x21);
    sys(SYS_IOPL, 0, 0);
    u32 z = eflags();
    begin(l);
    put(l, "iopl 3: IOPL ");
    dec(l, (a >> 12) & 3);
    put(l, " IF ");
    dec(l, (a >> 9) & 1);
    put(l, "; cli: IF ");
    dec(l, (b >> 9) & 1);
    put(l, "; popf with IF: ");
    dec(l, (c >> 9) & 1);
    put(l, "; popf without: ");
    dec(l, (d >> 9) & 1);
    put(l, "; sti: ");
    dec(l, (e >> 9) & 1);
    put(l, "; port 21 reads ");
    hex(l, mask, 2);
    put(l, "; back to IOPL ");
    dec(l, (z >> 12) & 3);
    emit(l);
#endif
    yield();

    begin(l);
    put(l, "writing to an address nobody mapped");
    emit(l);
    *(volatile u32 *)UNMAPPED = 1;
    begin(l);
    put(l, "STILL ALIVE");
    emit(l);
    sys(SYS_EXIT, 1, 0);
}

/* FS on the TLS segment of this process's LDT: fs:0 is the info page's pid. */
static u32 tls_pid(void)
{
    u32 v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

static void charlie(struct line *l)
{
    hello(l);
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%fs" : : "i"(SEL_LDT_TLS) : "eax", "memory");
    /* The LDT's kernel-only entry: a #GP(selector) the kernel skips. */
    __asm__ volatile("mov %0, %%eax; mov %%ax, %%gs" : : "i"(SEL_LDT_KDATA | 3) : "eax", "memory");
    begin(l);
    put(l, "fs:0 through my LDT reads pid ");
    dec(l, tls_pid());
    emit(l);
    yield();

    begin(l);
    put(l, "after the others ran (each with its own LDT), fs:0 still reads pid ");
    dec(l, tls_pid());
    emit(l);

    fpu_report(l);
    template_line(l, 0);
    const char *t = (const char *)UTMPL;
    begin(l);
    put(l, "bytes at +20 and +40 of my template: ");
    hex(l, (u32)t[0x20], 2);
    put(l, " ");
    hex(l, (u32)t[0x40], 2);
    emit(l);
    yield();

    u32 base = INFO->ticks_in_user;
    begin(l);
    put(l, "spinning until the timer interrupts me 3 more times");
    emit(l);
    spin_until(base + 3);
    begin(l);
    put(l, "done spinning");
    emit(l);
    yield();

    report_work(l, 3);
    begin(l);
    put(l, "reading kernel memory at ");
    hex(l, INFO->kernel_addr, 8);
    emit(l);
    u32 v = *(volatile u32 *)INFO->kernel_addr;
    begin(l);
    put(l, "STILL ALIVE, read ");
    hex(l, v, 8);
    emit(l);
    sys(SYS_EXIT, 1, 0);
}

/* Pages of a recycled process start zeroed, whatever their frames were before. */
static void fresh(struct line *l)
{
    u32 nonzero = 0;
    for (u32 i = 0; i < 1024; i++)
        nonzero += WORK[i] != 0;
    begin(l);
    put(l, "non-zero words in my fresh work page: ");
    dec(l, nonzero);
    emit(l);
}

static void delta(struct line *l)
{
    hello(l);
    fresh(l);
    /* With CR4.UMIP, each of these is a #GP(0) the kernel skips (the operands keep 5a). */
    struct __attribute__((packed)) { unsigned short limit; u32 base; } g = { 0x5a5a, 0x5a5a5a5a };
    u32 msw = 0x5a5a5a5a, tr = 0x5a5a5a5a;
    __asm__ volatile("sgdt %0" : "+m"(g));
    __asm__ volatile("smsw %0" : "+r"(msw));
    __asm__ volatile("str %0" : "+r"(tr));
    begin(l);
    put(l, "under UMIP: sgdt left ");
    hex(l, g.base, 8);
    put(l, "/");
    hex(l, g.limit, 4);
    put(l, ", smsw left ");
    hex(l, msw, 8);
    put(l, ", str left ");
    hex(l, tr, 8);
    emit(l);
    fill_work(4);
    yield();

    template_line(l, 0);
    char *t = (char *)UTMPL;
    t[0] = 'T';
    template_line(l, 0);
    report_work(l, 4);
    sys(SYS_EXIT, 7, 0);
}

static void echo(struct line *l)
{
    hello(l);
    fresh(l);
    fill_work(5);
    yield();

    template_line(l, 0);
    report_work(l, 5);
    sys(SYS_EXIT, 0, 0);
}

/* Where every process starts, with interrupts on, at CPL3. */
void user_main(void)
{
    struct line l;
    INFO->started = 1;
    if (INFO->role < 3) {
        /* The first three fill their work page and then let the timer preempt them. */
        fill_work(INFO->pid);
        spin_until(2);
        fpu_push(INFO->pid * 1000);
    }
    switch (INFO->role) {
    case 0: alpha(&l); break;
    case 1: bravo(&l); break;
    case 2: charlie(&l); break;
    case 3: delta(&l); break;
    default: echo(&l); break;
    }
    for (;;)
        sys(SYS_EXIT, 2, 0);
}

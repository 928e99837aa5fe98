/* ioperm: port I/O as a PC and an x86 CPU define it.
 *
 *  1. ports nobody claims read all ones at every width, and ignore writes;
 *  2. 16- and 32-bit accesses to the 8-bit registers of the 16550 and the 8259 are split
 *     into byte cycles, lowest port first (the ISA bus does it; so does QEMU);
 *  3. port 0x80 takes writes;
 *  4. string I/O: REP INSB/INSW/INSD/OUTSB/OUTSW with DF clear and set, to and from buffers
 *     that cross a page boundary between two frames in reverse physical order, a segment
 *     override on OUTS, a count of 0, 16-bit addressing, and a #PF in the middle of a REP
 *     (the registers show the elements done);
 *  5. ring 3: with IOPL 3 every port and CLI/STI work; with IOPL 0 they #GP(0), POPF leaves
 *     IF alone;
 *  6. the TSS I/O permission bitmap with IOPL 0: allowed ports work from ring 3, others
 *     #GP(0), multi-byte accesses need every bit clear, the bitmap may cross a page, the CPU
 *     reads two bytes of it (so the byte after a port's byte must lie within the TSS limit),
 *     a map base at or past the limit means no bitmap, and changes to it act at once.
 */
#include "kern.h"

#define SCR 0x3ff

static void section(const char *s) { puts("-- "); puts(s); putc('\n'); }

/* A probe's result: the value, or the fault it raised. */
static void show_probe(const char *label, uint32_t v, int digits, bool want_fault, uint32_t want)
{
    puts(label);
    putc(' ');
    bool bad;
    if (fault_hit) {
        puts("#");
        hex(fault_vec, 2);
        putc('(');
        hex(fault_err, 4);
        putc(')');
        bad = !want_fault || fault_vec != 13 || fault_err != 0;
    } else {
        hex(v, digits);
        bad = want_fault || v != want;
    }
    if (bad) { puts("  <- wrong"); failures++; }
    putc('\n');
}

static void mask_pics(void)
{
    static const uint8_t icw[][2] = {
        { 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
        { 0xa0, 0x11 }, { 0xa1, 0x28 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
        { 0x21, 0xff }, { 0xa1, 0xff },
    };
    for (unsigned i = 0; i < sizeof icw / sizeof icw[0]; i++) outb(icw[i][0], icw[i][1]);
}

/* A BIOS data area address (kept from the compiler's view of constant pointers). */
static uintptr_t bda(uintptr_t a) { __asm__("" : "+r"(a)); return a; }

/* 1. */
static void unclaimed(void)
{
    static const uint16_t ports[] = { 0x104, 0x208, 0x30c, 0x3e0 };
    section("ports nobody claims");
    for (unsigned i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        uint16_t p = ports[i];
        puts("port ");
        hex(p, 4);
        putc('\n');
        show("  inb", inb(p), 2, 0xff);
        show("  inw", inw(p), 4, 0xffff);
        show("  inl", inl(p), 8, 0xffffffff);
        outb(p, 0x12);
        outw(p, 0x3456);
        outl(p, 0x789abcde);
        show("  inl after writes", inl(p), 8, 0xffffffff);
    }
}

/* 2. */
static void wide(void)
{
    section("wide accesses to byte registers");
    outb(SCR, 0x5a);
    (void)inb(0x3fe);                         /* MSR: its change bits are read away */
    show("inw 3fe (MSR, SCR)", inw(0x3fe), 4, 0x5ab0);
    show("inl 3fc (MCR, LSR, MSR, SCR)", inl(0x3fc) & 0xffff60e0, 8, 0x5ab06000);
    outw(0x3fe, 0xa500);                      /* MSR ignores the low byte, SCR gets 0xa5 */
    show("SCR after outw 3fe,a500", inb(SCR), 2, 0xa5);
    outb(0x20, 0x0b);                         /* OCW3: read ISR */
    outb(0x21, 0xfa);
    show("inw 20 (ISR, IMR)", inw(0x20), 4, 0xfa00);
    outw(0x20, 0xf90a);                       /* OCW3 read IRR, then the mask 0xf9 */
    show("IMR after outw 20,f90a", inb(0x21), 2, 0xf9);
    outb(0x21, 0xff);
    outb(SCR, 0x5a);
}

/* 3. */
static void post(void)
{
    section("port 80");
    for (unsigned i = 0; i < 4; i++) outb(0x80, (uint8_t)(0x11 * i));
    show("inb 80", inb(0x80), 2, 0xff);
}

/* 3b. The rest of the PC's ports a kernel may look at. */
static void pc_ports(void)
{
    section("other PC ports");
    show("port 92 (A20 on)", inb(0x92), 2, 0x02);
    show("BDA COM1", *(volatile uint16_t *)bda(0x400), 4, 0x3f8);
    show("BDA COM2", *(volatile uint16_t *)bda(0x402), 4, 0x2f8);
    outb(0x2ff, 0xc3);
    show("COM2 SCR", inb(0x2ff), 2, 0xc3);
    show("COM2 LSR", inb(0x2fd), 2, 0x60);
    show("COM2 IIR", inb(0x2fa), 2, 0x01);
    show("COM2 LCR", inb(0x2fb), 2, 0x00);
    show("inw 2fe (MSR, SCR)", inw(0x2fe), 4, 0xc3b0);
    show("secondary IDE status (no drive)", inb(0x177), 2, 0x00);
    show("secondary IDE alternate status", inb(0x376), 2, 0x00);
    show("secondary IDE data", inl(0x170), 8, 0);
    show("exit port read (inl f4)", inl(0xf4), 8, 0);
    show("exit port read (inb f7)", inb(0xf7), 2, 0);
}

/* 4. */
static char *win(int off) { return (char *)(WIN + (uint32_t)off); }

static void put_bytes(const char *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 32 && c < 127) putc(c); else { putc('\\'); hex((uint8_t)c, 2); }
    }
}

static unsigned len(const char *s) { unsigned n = 0; while (s[n]) n++; return n; }

static void show_regs(const struct strio *s, uint32_t esi0, uint32_t edi0)
{
    puts("  esi ");
    hex(s->esi - esi0, 8);
    puts(" edi ");
    hex(s->edi - edi0, 8);
    puts(" ecx ");
    hex(s->ecx, 8);
    if (fault_hit) {
        puts(" fault ");
        hex(fault_vec, 2);
        putc(' ');
        hex(fault_err, 4);
        puts(" cr2 ");
        hex(fault_cr2 - WIN, 8);
    }
    putc('\n');
}

static void loop_fill(const char *bytes, unsigned n)
{
    outb(0x3fc, 0x10);            /* loopback */
    outb(0x3fa, 0x07);            /* FIFO on and cleared */
    for (unsigned i = 0; i < n; i++) outb(0x3f8, (uint8_t)bytes[i]);
}

static void loop_end(void)
{
    outb(0x3fa, 0x00);
    outb(0x3fc, 0x03);
}

static void string_io(void)
{
    struct strio s;
    section("string I/O");

    const char *fwd = "REP OUTSB forward across a page\n";
    unsigned n = len(fwd);
    char *buf = win(0x1000 - 11);
    for (unsigned i = 0; i < n; i++) buf[i] = fwd[i];
    s = (struct strio){ 0x3f8, (uint32_t)buf, 0, n, 0, 3 };
    strio(&s);
    show_regs(&s, (uint32_t)buf, 0);

    const char *back = "REP OUTSB with DF=1 across a page\n";
    n = len(back);
    buf = win(0x1000 - 13);
    for (unsigned i = 0; i < n; i++) buf[i] = back[n - 1 - i];
    s = (struct strio){ 0x3f8, (uint32_t)(buf + n - 1), 0, n, 1, 3 };
    strio(&s);
    show_regs(&s, (uint32_t)(buf + n - 1), 0);

    const char *ovr = "REP FS OUTSB (FS base 0x1000)\n";
    n = len(ovr);
    buf = win(0x1000 - 5);
    for (unsigned i = 0; i < n; i++) buf[i] = ovr[i];
    __asm__ volatile("mov %0, %%fs" :: "r"(SEL_FS1K));
    s = (struct strio){ 0x3f8, (uint32_t)buf - 0x1000, 0, n, 0, 6 };
    strio(&s);
    __asm__ volatile("mov %0, %%fs" :: "r"(SEL_KDATA));
    show_regs(&s, (uint32_t)buf - 0x1000, 0);

    /* INSB from the loopback FIFO. */
    for (int i = -40; i < 40; i++) *win(0x1000 + i) = '.';
    loop_fill("ABCDEFGHIJKLMNOP", 16);
    buf = win(0x1000 - 7);
    s = (struct strio){ 0x3f8, 0, (uint32_t)buf, 16, 0, 0 };
    strio(&s);
    uint8_t lsr = inb(0x3fd);
    loop_end();
    puts("rep insb forward: ");
    put_bytes(buf - 2, 20);
    puts(" lsr ");
    hex(lsr, 2);
    putc('\n');
    show_regs(&s, 0, (uint32_t)buf);

    loop_fill("abcdefghijklmnop", 16);
    buf = win(0x1000 + 5);
    s = (struct strio){ 0x3f8, 0, (uint32_t)buf, 16, 1, 0 };
    strio(&s);
    loop_end();
    puts("rep insb DF=1: ");
    put_bytes(buf - 17, 20);
    putc('\n');
    show_regs(&s, 0, (uint32_t)buf);

    /* INSW and INSD from a port nobody claims, at odd addresses. */
    for (int i = -40; i < 40; i++) *win(0x1000 + i) = 0;
    buf = win(0x1000 - 3);
    s = (struct strio){ 0x104, 0, (uint32_t)buf, 3, 0, 1 };
    strio(&s);
    puts("rep insw: ");
    put_bytes(buf - 1, 8);
    putc('\n');
    show_regs(&s, 0, (uint32_t)buf);
    buf = win(0x1000 + 1);
    s = (struct strio){ 0x104, 0, (uint32_t)buf, 3, 1, 2 };
    strio(&s);
    puts("rep insd DF=1: ");
    put_bytes(buf - 8, 13);
    putc('\n');
    show_regs(&s, 0, (uint32_t)buf);

    /* OUTSW to MSR/SCR: each word's high byte lands in SCR. */
    static const uint16_t words[3] = { 0x1100, 0x2200, 0x3300 };
    outb(SCR, 0);
    s = (struct strio){ 0x3fe, (uint32_t)words, 0, 3, 0, 4 };
    strio(&s);
    show("SCR after rep outsw to 3fe", inb(SCR), 2, 0x33);
    show_regs(&s, (uint32_t)words, 0);

    /* INSW from MSR/SCR. */
    outb(SCR, 0x5a);
    (void)inb(0x3fe);
    buf = win(0x1000 - 2);
    s = (struct strio){ 0x3fe, 0, (uint32_t)buf, 2, 0, 1 };
    strio(&s);
    show("rep insw from 3fe", *(volatile uint32_t *)buf, 8, 0x5ab05ab0);

    /* A count of 0 touches nothing, not even a page that is not there. */
    s = (struct strio){ SCR, 0, WIN + 0x2000, 0, 0, 0 };
    strio(&s);
    puts("rep insb ecx=0 at an absent page:");
    show_regs(&s, 0, WIN + 0x2000);
    if (fault_hit) failures++;

    /* A #PF in the middle: the elements before it are done, the registers say how far. */
    outb(SCR, 0x5a);
    for (int i = -8; i < 0; i++) *win(0x2000 + i) = 0;
    s = (struct strio){ SCR, 0, WIN + 0x2000 - 4, 8, 0, 0 };
    strio(&s);
    puts("rep insb into an absent page: ");
    put_bytes(win(0x2000 - 5), 5);
    putc('\n');
    show_regs(&s, 0, WIN + 0x2000 - 4);
    if (!fault_hit || fault_vec != 14 || fault_err != 2 || fault_cr2 != WIN + 0x2000 || s.ecx != 4) failures++;

    /* The same from the loopback FIFO: the element that faults reads no byte from the port
     * (the destination is checked first), so the FIFO still holds it. */
    loop_fill("abcdefgh", 8);
    s = (struct strio){ 0x3f8, 0, WIN + 0x2000 - 4, 8, 0, 0 };
    strio(&s);
    char rest[9];
    unsigned nrest = 0;
    while ((inb(0x3fd) & 1) && nrest < 8) rest[nrest++] = (char)inb(0x3f8);
    loop_end();
    puts("rep insb from the FIFO into an absent page: ");
    put_bytes(win(0x2000 - 4), 4);
    puts(", left in the FIFO: ");
    put_bytes(rest, nrest);
    putc('\n');
    show_regs(&s, 0, WIN + 0x2000 - 4);
    if (nrest != 4) failures++;

    s = (struct strio){ 0x80, WIN + 0x2000 - 3, 0, 8, 0, 3 };
    strio(&s);
    puts("rep outsb from an absent page:");
    show_regs(&s, WIN + 0x2000 - 3, 0);
    if (!fault_hit || fault_vec != 14 || fault_err != 0 || fault_cr2 != WIN + 0x2000 || s.ecx != 5) failures++;

    s = (struct strio){ 0x104, 0, WIN + 0x3010, 2, 1, 7 };
    *win(0x300f) = 0;
    strio(&s);
    puts("insb without rep, DF=1: ");
    put_bytes(win(0x300f), 2);
    show_regs(&s, 0, WIN + 0x3010);
}

/* 4b. 16-bit addressing: DI and CX, the upper halves kept. */
static void string_io16(void)
{
    struct strio s;
    section("string I/O with 16-bit addressing");
    outb(SCR, 0x5a);
    volatile uint8_t *low = (volatile uint8_t *)0x7000;
    for (int i = 0; i < 4; i++) low[i] = 0;
    s = (struct strio){ SCR, 0, 0x12347000, 0xabcd0003, 0, 8 };
    strio(&s);
    show("a16 rep insb edi", s.edi, 8, 0x12347003);
    show("a16 rep insb ecx", s.ecx, 8, 0xabcd0000);
    show("a16 rep insb bytes", *(volatile uint32_t *)low, 8, 0x005a5a5a);
}

/* 5 and 6: ring 3. The user side records, the kernel prints. */
struct urec { const char *label; uint32_t v, hit, vec, err; };
static struct urec recs[64];
static unsigned nrec;

static void rec(const char *label, uint32_t v)
{
    recs[nrec++] = (struct urec){ label, v, fault_hit, fault_vec, fault_err };
    fault_hit = 0;
}

/* Print the records; want: the expected value, or GP for #GP(0). */
#define GP 0x6b6b0d0du
static void print_recs(const uint32_t *want)
{
    for (unsigned i = 0; i < nrec; i++) {
        fault_hit = recs[i].hit;
        fault_vec = recs[i].vec;
        fault_err = recs[i].err;
        show_probe(recs[i].label, recs[i].v, 8, want[i] == GP, want[i]);
    }
    fault_hit = 0;
    nrec = 0;
}

static void user_iopl3(void)
{
    rec("in  3ff", pin(SCR, 1));
    pout(SCR, 1, 0x6b);
    rec("out 3ff", 0);
    rec("in  3ff again", pin(SCR, 1));
    rec("inw 104", pin(0x104, 2));
    pcli();
    rec("cli", 0);
    user_exit();
}

static void user_iopl3_sti(void)
{
    psti();
    rec("sti", 0);
    user_exit();
}

static void user_iopl0(void)
{
    rec("in  3ff", pin(SCR, 1));
    pout(SCR, 1, 0x11);
    rec("out 3ff", 0);
    rec("inl 104", pin(0x104, 4));
    rec("in  80", pin(0x80, 1));
    pcli();
    rec("cli", 0);
    psti();
    rec("sti", 0);
    rec("popf IF=0 IOPL=3, pushf", u_popf_pushf(0x3002) & 0x3200);
    struct strio s = { 0x3f8, (uint32_t)"x", 0, 1, 0, 3 };
    strio(&s);
    rec("rep outsb", s.ecx);
    user_exit();
}

/* The TSS lives in the window so that its I/O bitmap crosses from one page to the next:
 * bitmap byte 0x40 (ports 0x200-0x207) is the first byte of the second page. */
#define TSS_AT (WIN + 0x1000 - 104 - 0x40)
static uint8_t *bitmap(void) { return (uint8_t *)(TSS_AT + 104); }

static void allow(uint16_t port, bool yes)
{
    uint8_t *b = bitmap() + port / 8;
    if (yes) *b &= (uint8_t)~(1u << (port & 7)); else *b |= (uint8_t)(1u << (port & 7));
}

static void user_bitmap(void)
{
    rec("in  3ff (allowed)", pin(SCR, 1));
    rec("in  3fe (denied)", pin(0x3fe, 1));
    rec("inw 3fe (one bit denied)", pin(0x3fe, 2));
    rec("in  1ff (allowed, first page)", pin(0x1ff, 1));
    rec("in  200 (allowed, second page)", pin(0x200, 1));
    /* (Unaligned reads of ports nobody claims: QEMU gives 0, an ISA bus all ones; only the
     * upper half of EAX, which a 16-bit IN keeps, is shown.) */
    rec("inw 1ff (bits across the pages)", pin(0x1ff, 2) & 0xffff0000);
    rec("inl 1ff (all four allowed)", pin(0x1ff, 4) & 0);
    rec("inl 200 (203 denied)", pin(0x200, 4));
    rec("inw 1fe (1fe denied)", pin(0x1fe, 2));
    pout(0x80, 1, 0x42);
    rec("out 80 (allowed)", 0);
    pout(0x81, 1, 0x42);
    rec("out 81 (denied)", 0);
    pcli();
    rec("cli (the bitmap is not for CLI)", 0);
    struct strio s = { 0x3f8, (uint32_t)"ring 3 REP OUTSB through the bitmap\n", 0, 36, 0, 3 };
    strio(&s);
    rec("rep outsb to 3f8 (allowed)", s.ecx);
    s = (struct strio){ 0x3fe, 0, WIN + 0x3000, 4, 0, 0 };
    strio(&s);
    rec("rep insb from 3fe (denied)", s.ecx);
    user_exit();
}

static void user_bitmap_edge(void)
{
    rec("in  1ff", pin(0x1ff, 1));
    rec("inw 1ff", pin(0x1ff, 2) & 0xffff0000);
    rec("in  200", pin(0x200, 1));
    rec("in  3ff", pin(SCR, 1));
    user_exit();
}

static void user_bitmap_absent(void)
{
    rec("in  8200", pin(0x8200, 1));
    user_exit();
}

static void user_bitmap_one(void)
{
    rec("in  3ff", pin(SCR, 1));
    user_exit();
}

/* LTR of the TSS already loaded: it is busy, so #GP with its selector. POPF sets IOPL in
 * ring 0, PUSHF shows it. */
static void ring0(void)
{
    static uint8_t plain[104] __attribute__((aligned(8)));
    section("ring 0");
    tss_load((uint32_t)plain, 103, 104);
    pltr(SEL_TSS);
    puts("LTR of the busy TSS: ");
    if (fault_hit) { puts("#"); hex(fault_vec, 2); putc('('); hex(fault_err, 4); putc(')'); }
    else puts("no fault");
    putc('\n');
    if (!fault_hit || fault_vec != 13 || fault_err != SEL_TSS) failures++;
    uint32_t fl;
    __asm__ volatile("pushf\n orl $0x3000, (%%esp)\n popf\n pushf\n pop %0" : "=r"(fl));
    show("PUSHF after POPF with IOPL 3", fl & 0x3200, 4, 0x3000);
    __asm__ volatile("pushf\n andl $~0x3000, (%%esp)\n popf\n pushf\n pop %0" : "=r"(fl));
    show("PUSHF after POPF with IOPL 0", fl & 0x3200, 4, 0x0000);
}

static void ring3(void)
{
    section("ring 3, IOPL 3");
    outb(SCR, 0x5a);
    static uint8_t plain[104 + 8] __attribute__((aligned(8)));
    tss_load((uint32_t)plain, 103, 104);
    run_user(user_iopl3, 3);
    static const uint32_t w3[] = { 0x5ee5ee5a, 0, 0x5ee5ee6b, 0x5ee5ffff, 0 };
    print_recs(w3);
    show("flags at INT 80 after CLI (IF, IOPL)", user_flags & 0x3200, 4, 0x3000);
    run_user(user_iopl3_sti, 3);
    static const uint32_t w3s[] = { 0 };
    print_recs(w3s);
    show("flags at INT 80 after STI", user_flags & 0x3200, 4, 0x3200);

    section("ring 3, IOPL 0, no bitmap");
    run_user(user_iopl0, 0);
    static const uint32_t w0[] = { GP, GP, GP, GP, GP, GP, 0x0200, GP };
    print_recs(w0);
    show("flags at INT 80", user_flags & 0x3200, 4, 0x0200);
    show("SCR (the denied OUT did nothing)", inb(SCR), 2, 0x6b);

    section("ring 3, IOPL 0, TSS I/O bitmap");
    uint8_t *t = (uint8_t *)TSS_AT;
    for (unsigned i = 0; i < 104 + 0x81; i++) t[i] = i < 104 ? 0 : 0xff;
    allow(SCR, true);
    allow(0x3f8, true);
    allow(0x1ff, true);
    allow(0x200, true);
    allow(0x201, true);
    allow(0x202, true);
    allow(0x80, true);
    tss_load(TSS_AT, 104 + 0x80, 104);
    outb(SCR, 0x5a);
    run_user(user_bitmap, 0);
    static const uint32_t wb[] = { 0x5ee5ee5a, GP, GP, 0x5ee5eeff, 0x5ee5eeff, 0x5ee50000, 0, GP, GP, 0, GP, GP, 0, GP };
    print_recs(wb);

    /* The bitmap is read at every access. */
    allow(SCR, false);
    run_user(user_bitmap_one, 0);
    static const uint32_t wd[] = { GP };
    print_recs(wd);
    allow(SCR, true);
    run_user(user_bitmap_one, 0);
    static const uint32_t wa[] = { 0x5ee5ee5a };
    print_recs(wa);

    /* Limits: the TSS ends at the byte of ports 0x200-0x207. */
    puts("limit 104+40: the last byte holds ports 200-207\n");
    tss_load(TSS_AT, 104 + 0x40, 104);
    run_user(user_bitmap_edge, 0);
    static const uint32_t we1[] = { 0x5ee5eeff, 0x5ee50000, GP, GP };
    print_recs(we1);
    puts("limit 104+3f\n");
    tss_load(TSS_AT, 104 + 0x3f, 104);
    run_user(user_bitmap_edge, 0);
    static const uint32_t we2[] = { GP, GP, GP, GP };
    print_recs(we2);
    puts("map base at the limit\n");
    tss_load(TSS_AT, 104 + 0x80, 104 + 0x80);
    run_user(user_bitmap_one, 0);
    print_recs(wd);
    puts("map base past the limit\n");
    tss_load(TSS_AT, 104 + 0x80, 0xdfff);
    run_user(user_bitmap_one, 0);
    print_recs(wd);
    puts("map base 0x48: the bitmap starts inside the TSS\n");
    /* Byte 0x7f of a map at 0x48 is TSS byte 0xc7, the bitmap's byte 0x5f (ports 0x2f8-0x2ff),
     * which is 0xff; make it allow 0x3ff there. */
    bitmap()[0x5f] = 0x7f;
    tss_load(TSS_AT, 104 + 0x80, 0x48);
    run_user(user_bitmap_one, 0);
    print_recs(wa);
    bitmap()[0x5f] = 0xff;
    puts("the bitmap byte of port 8200 in a page that is not present\n");
    tss_load(TSS_AT, 104 + 0x1100, 104);
    fault_cr2 = 0;
    run_user(user_bitmap_absent, 0);
    puts("in  8200: ");
    if (recs[0].hit) {
        putc('#');
        hex(recs[0].vec, 2);
        putc('(');
        hex(recs[0].err, 4);
        puts(") cr2 ");
        hex(fault_cr2 - WIN, 8);
    } else {
        puts("no fault");
    }
    putc('\n');
    if (!recs[0].hit || recs[0].vec != 14 || recs[0].err != 0 || fault_cr2 != WIN + 0x2000) failures++;
    nrec = 0;
    puts("IOPL 3 with the bitmap denying\n");
    allow(SCR, false);
    tss_load(TSS_AT, 104 + 0x80, 104);
    run_user(user_bitmap_one, 3);
    print_recs(wa);
}

int kmain(void);
int kmain(void)
{
    tables_init();
    mask_pics();
    paging_init();
    puts("ioperm: port I/O, string I/O, IOPL and the TSS I/O bitmap\n");
    unclaimed();
    wide();
    post();
    pc_ports();
    string_io();
    string_io16();
    ring0();
    ring3();
    puts("failures ");
    dec(failures);
    putc('\n');
    return failures > 0x7e ? 0x7e : (int)failures;
}

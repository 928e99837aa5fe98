/* rtcpic: a uniprocessor kernel that stays with the 8259 pair. Its clock is the RTC's
 * periodic interrupt (IRQ8, rates from register A, register C read in the handler); its
 * sleep() is the PIT's channel 0 in mode 0 (one interrupt per count, IRQ0), waited for with
 * HLT. Everything printed is either a fixed value or a count stated as "at least N" or an
 * order of events, so that the transcript does not depend on the host's speed.
 * COM1 carries the transcript; port 0xf4 gets the number of failed checks. */
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

static inline void out8(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t in8(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

/* ---- output ---- */

static void serial_byte(char c)
{
    while (!(in8(0x3fd) & 0x20)) {}
    out8(0x3f8, (uint8_t)c);
}

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt == '\n') { serial_byte('\r'); serial_byte('\n'); continue; }
        if (*fmt != '%') { serial_byte(*fmt); continue; }
        char k = *++fmt;
        if (k == 's') { for (const char *s = va_arg(ap, const char *); *s; s++) serial_byte(*s); continue; }
        if (k == 'c') { serial_byte((char)va_arg(ap, int)); continue; }
        uint32_t v = va_arg(ap, uint32_t), base = k == 'x' ? 16 : 10;
        char buf[12];
        int n = 0;
        do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
        if (k == 'x' && n < 2) buf[n++] = '0';
        while (n) serial_byte(buf[--n]);
    }
    va_end(ap);
}

static uint32_t bad;
static void check(bool ok, const char *what)
{
    if (!ok) { bad++; say("FAIL: %s\n", what); }
}
static const char *yn(bool b) { return b ? "yes" : "no"; }

/* ---- the IDT and the 8259s ---- */

struct idt_gate { uint16_t lo, sel; uint8_t zero, attr; uint16_t hi; } __attribute__((packed));
static struct idt_gate idt[48];
extern const uint32_t trap_stubs[48];

static void idt_setup(void)
{
    for (int i = 0; i < 48; i++)
        idt[i] = (struct idt_gate){ (uint16_t)trap_stubs[i], 0x08, 0, 0x8e, (uint16_t)(trap_stubs[i] >> 16) };
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) r = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(r));
}

static uint8_t mask_m = 0xfb, mask_s = 0xff;       /* the cascade stays open */

static void pic_setup(void)
{
    out8(0x20, 0x11); out8(0xa0, 0x11);
    out8(0x21, 0x20); out8(0xa1, 0x28);
    out8(0x21, 0x04); out8(0xa1, 0x02);
    out8(0x21, 0x01); out8(0xa1, 0x01);
    out8(0x21, mask_m); out8(0xa1, mask_s);
}

static void irq_enable(unsigned irq, bool on)
{
    uint8_t *m = irq < 8 ? &mask_m : &mask_s;
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    *m = on ? (uint8_t)(*m & ~bit) : (uint8_t)(*m | bit);
    out8(irq < 8 ? 0x21 : 0xa1, *m);
}

static uint8_t pic_reg(uint16_t cmd, uint8_t ocw3)
{
    out8(cmd, ocw3);
    uint8_t v = in8(cmd);
    out8(cmd, 0x0a);                          /* back to IRR reads */
    return v;
}

/* ---- the CMOS RTC ---- */

/* The index and the data port must not be split by the IRQ8 handler's own accesses. */
static uint32_t irq_save(void) { uint32_t f; __asm__ volatile("pushf; pop %0; cli" : "=r"(f) :: "memory"); return f; }
static void irq_restore(uint32_t f) { if (f & 0x200) __asm__ volatile("sti" ::: "memory"); }
static uint8_t cmos(uint8_t reg)
{
    uint32_t f = irq_save();
    out8(0x70, reg);
    uint8_t v = in8(0x71);
    irq_restore(f);
    return v;
}
static void cmos_set(uint8_t reg, uint8_t v)
{
    uint32_t f = irq_save();
    out8(0x70, reg);
    out8(0x71, v);
    irq_restore(f);
}

/* ---- interrupts: what came, in what order ---- */

static volatile uint32_t ticks0, ticks8, ticks4, com_clear_at, strays, spurious7;
static volatile uint8_t c_bad, c_second_bad;
static volatile uint32_t c_good;
static volatile bool read_c = true;
static volatile char events[64];
static volatile uint32_t nevents;

static void note(char e)
{
    if (nevents < sizeof events) events[nevents] = e;
    nevents++;
}

void on_trap(uint32_t vector, uint32_t error, uint32_t eip);
void on_trap(uint32_t vector, uint32_t error, uint32_t eip)
{
    if (vector < 32) {
        say("FAIL: exception %u (error %x) at %x\n", vector, error, eip);
        out8(0xf4, 0x7e);
        for (;;) __asm__ volatile("cli; hlt");
    }
    unsigned irq = vector - 0x20;
    if (irq == 0) {
        ticks0++;
        note('P');
    } else if (irq == 8) {
        ticks8++;
        note('R');
        if (read_c) {
            /* IRQF comes with PF (UF aside). C may also read 0: the main program read it
             * after the 8259 had latched the edge, which is no fault of the RTC's. */
            uint8_t c = cmos(0x0c);
            if ((c & 0x80) && !(c & 0x40)) c_bad++;
            if (c & 0x80) c_good++;
            /* A second read finds them cleared, unless the next period began in between:
             * looked at only at 8 Hz and slower. */
            if ((cmos(0x0a) & 0x0f) >= 13 && (cmos(0x0c) & 0xc0)) c_second_bad++;
        }
    } else if (irq == 4) {
        ticks4++;
        note('S');
        if (ticks4 >= com_clear_at) in8(0x3fa);      /* reading IIR drops THRE's request */
    } else if (irq == 7 || irq == 15) {
        /* A spurious IRQ 7/15 leaves no ISR bit: it gets no EOI on its own chip. */
        uint8_t isr = pic_reg(irq == 7 ? 0x20 : 0xa0, 0x0b);
        if (!(isr & 0x80)) { spurious7++; if (irq == 15) out8(0x20, 0x20); return; }
        strays++;
    } else {
        strays++;
    }
    if (irq >= 8) out8(0xa0, 0x20);
    out8(0x20, 0x20);
}

/* Wait with HLT until *what passes `than`. */
static void wait_above(volatile uint32_t *what, uint32_t than)
{
    __asm__ volatile("cli");
    while (*what <= than) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* ---- the PIT: channel 0 one-shots (mode 0) for sleep(), channel 2 as a busy-wait stopwatch ---- */

static void pit0_arm(uint16_t count)
{
    out8(0x43, 0x30);                         /* channel 0, lobyte/hibyte, mode 0, binary */
    out8(0x40, (uint8_t)count);
    out8(0x40, (uint8_t)(count >> 8));
}

static uint8_t pit0_status(void)
{
    out8(0x43, 0xe2);                         /* read-back: status only, channel 0 */
    return in8(0x40);
}

static uint16_t pit0_latch(void)
{
    out8(0x43, 0x00);
    uint8_t lo = in8(0x40);
    return (uint16_t)(lo | in8(0x40) << 8);
}

static void sleep_ms(uint32_t ms)
{
    while (ms) {
        uint32_t part = ms > 50 ? 50 : ms;
        uint32_t before = ticks0;
        pit0_arm((uint16_t)(part * 1193u));
        wait_above(&ticks0, before);
        ms -= part;
    }
}

static void spin_ms(uint32_t ms)               /* interrupts as they are; channel 2 */
{
    while (ms--) {
        out8(0x61, (uint8_t)((in8(0x61) & 0xfc) | 0x01));
        out8(0x43, 0xb0);
        out8(0x42, 1193 & 0xff);
        out8(0x42, 1193 >> 8);
        while (!(in8(0x61) & 0x20)) {}
    }
}

/* ---- the tests ---- */

static void set_rate(uint8_t rs)
{
    cmos_set(0x0a, (uint8_t)((cmos(0x0a) & 0x70) | rs));
}

static void set_b(uint8_t set, uint8_t clear)
{
    cmos_set(0x0b, (uint8_t)((cmos(0x0b) | set) & ~clear));
}

static void rtc_entry_state(void)
{
    say("rtc: A %x (divider %x, rate %u), B %x, D %x\n", cmos(0x0a) & 0x7f, (cmos(0x0a) >> 4) & 7,
        cmos(0x0a) & 0x0f, cmos(0x0b), cmos(0x0d));
    cmos(0x0c);
}

static void sleep_checks(void)
{
    /* The firmware's 18.2 Hz tick may have left IRQ0 requested at the 8259 while it was
     * masked: one short sleep and a pause take whatever was waiting. */
    irq_enable(0, true);
    sleep_ms(1);
    __asm__ volatile("sti");
    spin_ms(3);
    __asm__ volatile("cli");
    uint32_t t = ticks0;
    sleep_ms(5);
    say("sleep: 5 ms took %u interrupt(s)\n", ticks0 - t);
    /* While a count runs: out low, mode 0, lobyte/hibyte; the latched count below the start. */
    __asm__ volatile("cli");
    uint8_t st;
    uint16_t cnt;
    /* The count lasts 42 ms: should the host stall us past it, the look is made again. */
    for (int tries = 0;; tries++) {
        t = ticks0;
        pit0_arm(50000);
        spin_ms(2);
        st = pit0_status();
        cnt = pit0_latch();
        if (!(st & 0x80) || tries == 3) break;
        wait_above(&ticks0, t);
    }
    say("sleep: counting: status %x, count below its start %s\n", st & 0xbf, yn(cnt < 50000 && cnt > 0));
    wait_above(&ticks0, t);
    say("sleep: at the end: status %x\n", pit0_status() & 0xbf);
    /* Mode 0 raises IRQ0 once per count: no more come without a new count. */
    t = ticks0;
    __asm__ volatile("sti");
    spin_ms(60);
    __asm__ volatile("cli");
    say("sleep: 60 ms after it ran out: %u more\n", ticks0 - t);
    /* Mode 4, as Linux's PIT clock event device uses for one-shots: the output stays high and
     * pulses low for one clock when the count runs out; IRQ0 comes at the pulse's end. Only
     * the mode bits of its status are printed: QEMU shows the output inverted in modes 4 and
     * 5 (low while counting), where the 8254 keeps it high. */
    __asm__ volatile("cli");
    out8(0x43, 0x38);
    out8(0x40, 50000 & 0xff);
    out8(0x40, 50000 >> 8);
    spin_ms(2);
    st = pit0_status();
    t = ticks0;
    wait_above(&ticks0, t);
    t = ticks0;
    __asm__ volatile("sti");
    spin_ms(60);
    __asm__ volatile("cli");
    say("sleep: mode 4: status %x, one interrupt, then %u more in 60 ms\n", st & 0x3f, ticks0 - t);
    /* A longer sleep in 50 ms pieces: 250 ms is five interrupts. */
    t = ticks0;
    sleep_ms(250);
    say("sleep: 250 ms took %u interrupts\n", ticks0 - t);
}

/* Count RTC interrupts while sleeping ms at rate rs; the first event after the sleep starts. */
static uint32_t rtc_during(uint8_t rs, uint32_t ms, char *first)
{
    set_rate(rs);
    cmos(0x0c);
    uint32_t r = ticks8;
    nevents = 0;
    sleep_ms(ms);
    if (first) *first = nevents ? events[0] : '-';
    return ticks8 - r;
}

static void rtc_periodic(void)
{
    irq_enable(8, true);
    set_rate(15);                                    /* 2 Hz */
    set_b(0x40, 0);
    say("rtc: rate 15 with PIE: A %x, B %x\n", cmos(0x0a) & 0x7f, cmos(0x0b));
    uint32_t r = ticks8;
    wait_above(&ticks8, r);
    /* Right after a 2 Hz tick a 20 ms sleep ends first; the next tick comes after it. */
    nevents = 0;
    sleep_ms(20);
    r = ticks8;
    wait_above(&ticks8, r);
    say("rtc: 2 Hz: after a tick, a 20 ms sleep and the next tick come in the order %c%c\n",
        nevents > 0 ? events[0] : '-', nevents > 1 ? events[1] : '-');
    char first;
    uint32_t n = rtc_during(15, 1200, &first);
    say("rtc: 2 Hz over 1.2 s: at least 2: %s\n", yn(n >= 2));
    if (n < 2) say("rtc: (%u)\n", n);

    uint32_t n10 = rtc_during(10, 500, &first);
    say("rtc: 64 Hz over 500 ms: at least 16: %s, at most 100: %s; first event %c\n", yn(n10 >= 16),
        yn(n10 <= 100), first);
    if (n10 < 16 || n10 > 100) say("rtc: (%u)\n", n10);
    uint32_t n6 = rtc_during(6, 100, &first);
    say("rtc: 1024 Hz over 100 ms: at least 20: %s; first event %c\n", yn(n6 >= 20), first);
    if (n6 < 20) say("rtc: (%u)\n", n6);
    /* Rates 1 and 2 with the 32.768 kHz time base are 256 Hz and 128 Hz. */
    uint32_t n1 = rtc_during(1, 250, 0), n2 = rtc_during(2, 250, 0), n9 = rtc_during(9, 250, 0);
    say("rtc: over 250 ms: rate 1 (256 Hz) at least 30: %s, rate 2 (128 Hz) at least 15: %s, "
        "rate 9 (128 Hz) at least 15: %s\n", yn(n1 >= 30), yn(n2 >= 15), yn(n9 >= 15));
    say("rtc: rate 1 at most 130: %s, rate 2 at most 70: %s\n", yn(n1 <= 130), yn(n2 <= 70));
    if (n1 < 30 || n1 > 130 || n2 < 15 || n2 > 70 || n9 < 15) say("rtc: (%u %u %u)\n", n1, n2, n9);
    say("rtc: register C in the handler: IRQF with PF every time: %s, at least 50 times: %s, "
        "clear on a second read: %s\n", yn(!c_bad), yn(c_good >= 50), yn(!c_second_bad));

    /* Rate 0: no periodic interrupts at all. */
    n = rtc_during(0, 200, 0);
    say("rtc: rate 0 over 200 ms: at most one: %s\n", yn(n <= 1));

    /* Not reading C: the IRQ line stays up, so no new edge reaches the 8259. */
    set_rate(10);
    cmos(0x0c);
    r = ticks8;
    wait_above(&ticks8, r);                          /* one read as usual: IRQ8 is low */
    read_c = false;
    r = ticks8;
    wait_above(&ticks8, r);                          /* one left unread: IRQ8 stays high */
    r = ticks8;
    sleep_ms(100);
    uint32_t held = ticks8 - r;
    read_c = true;
    uint8_t c = cmos(0x0c);
    r = ticks8;
    sleep_ms(100);
    say("rtc: C not read: %u in 100 ms; then C %x and %s\n", held, c & 0xc0,
        ticks8 - r >= 2 ? "they come again" : "still none");

    /* PIE cleared while a flag waits: IRQF goes with it (IRQF = PF.PIE + AF.AIE + UF.UIE),
     * PF stays until C is read. */
    irq_enable(8, false);
    cmos(0x0c);
    set_rate(6);
    spin_ms(5);
    set_b(0, 0x40);
    c = cmos(0x0c);
    say("rtc: PIE cleared with PF waiting: C %x\n", c & 0xc0);
    set_b(0x40, 0);
    spin_ms(5);
    c = cmos(0x0c);
    say("rtc: PIE set again, 5 ms later: C %x\n", c & 0xc0);
    /* Polling with IRQ8 masked at the 8259: PF shows in C. */
    set_rate(15);
    cmos(0x0c);
    uint32_t polls = 0;
    do { c = cmos(0x0c); polls++; spin_ms(1); } while (!(c & 0x40) && polls < 2000);
    say("rtc: polled at 2 Hz with IRQ8 masked: C %x\n", c & 0xc0);
    set_b(0, 0x40);
    cmos(0x0c);
    irq_enable(8, true);
}

static void rtc_update_irq(void)
{
    /* The update-ended interrupt, once a second. */
    cmos(0x0c);
    set_b(0x10, 0x40);
    read_c = false;
    /* An edge the 8259 latched while IRQ8 was masked may come first: wait for UF. */
    uint8_t c1 = 0;
    uint32_t r;
    for (int i = 0; i < 4 && !(c1 & 0x10); i++) {
        r = ticks8;
        wait_above(&ticks8, r);
        c1 = cmos(0x0c);
    }
    r = ticks8;
    wait_above(&ticks8, r);
    uint8_t c2 = cmos(0x0c);
    read_c = true;
    set_b(0, 0x10);
    cmos(0x0c);
    say("rtc: update interrupts: C %x then %x\n", c1 & 0x90, c2 & 0x90);
}

static void both_at_once(void)
{
    /* IRQ0 and IRQ8 both requested while IF is clear: the master's IR0 first, then IR2 (the
     * slave's IR0), each to its end before the next. */
    set_rate(6);
    cmos(0x0c);
    set_b(0x40, 0);
    __asm__ volatile("cli");
    cmos(0x0c);
    pit0_arm(1193);
    uint32_t waited = 0;
    while ((pic_reg(0x20, 0x0a) & 0x05) != 0x05 && waited < 500) { spin_ms(1); waited++; }
    uint8_t irr_m = pic_reg(0x20, 0x0a), irr_s = pic_reg(0xa0, 0x0a);
    nevents = 0;
    __asm__ volatile("sti; nop; nop; nop; cli");
    say("pic: both requested: IRR %x/%x; taken in the order %c%c\n", irr_m & 0x05, irr_s & 0x01,
        nevents > 0 ? events[0] : '-', nevents > 1 ? events[1] : '-');
    say("pic: ISR after %x/%x\n", pic_reg(0x20, 0x0b), pic_reg(0xa0, 0x0b));
    set_b(0, 0x40);
    cmos(0x0c);
}

static void com1_level(void)
{
    /* COM1's THR-empty request through IRQ4, level-triggered in the ELCR: a handler that does
     * not read IIR gets it again after its EOI; edge-triggered it does not. */
    uint8_t elcr = in8(0x4d0);
    for (int level = 1; level >= 0; level--) {
        out8(0x4d0, (uint8_t)(level ? elcr | 0x10 : elcr & ~0x10));
        out8(0x3f9, 0);
        in8(0x3fa);
        ticks4 = 0;
        com_clear_at = 2;
        __asm__ volatile("cli");
        irq_enable(4, true);
        out8(0x3f9, 0x02);
        spin_ms(2);
        __asm__ volatile("sti; nop; nop; nop; nop; cli");
        irq_enable(4, false);
        out8(0x3f9, 0);
        in8(0x3fa);
        say("pic: COM1 THR empty, %s-triggered (ELCR %x): %u interrupt(s) in the window\n",
            level ? "level" : "edge", in8(0x4d0) & 0x10, ticks4);
    }
    out8(0x4d0, elcr);
}

uint32_t rtcpic_main(uint32_t magic);
uint32_t rtcpic_main(uint32_t magic)
{
    idt_setup();
    pic_setup();
    say("rtcpic: Multiboot %s; 8259s at 0x20/0x28, masks %x/%x\n", yn(magic == 0x2BADB002), in8(0x21), in8(0xa1));
    rtc_entry_state();
    sleep_checks();
    rtc_periodic();
    rtc_update_irq();
    both_at_once();
    com1_level();
    irq_enable(0, false);
    irq_enable(8, false);
    say("rtcpic: stray interrupts %u, spurious IRQ 7/15 %u\n", strays, spurious7);
    check(!strays, "no stray interrupts");
    say("rtcpic: %u failure(s)\n", bad);
    return bad;
}

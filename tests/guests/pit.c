/* The 8254 PIT and port 0x61: channel 0 in modes 2 and 3 (interrupts counted, then masked),
 * mode 0 (one interrupt), the counter latch, the read-back command, LSB/MSB/word access,
 * channel 1, channel 2 gated by port 0x61 bit 0 with its output in bit 5 (the TSC
 * calibration loop), the refresh toggle in bit 4. Counts are checked as ranges wide enough
 * for a slow machine; nothing printed depends on speed. The status byte's null count bit
 * is never compared: it clears at the first clock after a count is written (an 8254, and
 * Bochs, can show it set for that long), and QEMU never sets it. */
#include "tests/guests/lib/guest.h"

#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define CTRL 0x43
#define PORTB 0x61

static volatile uint32_t ticks, late;
static volatile uint32_t want_ticks;

/* Count to want_ticks, then mask IRQ0; an edge already latched may still arrive once. */
static void on_tick(struct gframe *f)
{
    (void)f;
    if (ticks >= want_ticks) late++;
    else if (++ticks == want_ticks) pic_mask(0xffff);
    pic_eoi(0);
}

/* Interrupts on until ticks reaches want, bounded. */
static void run_until(uint32_t want)
{
    for (long i = 0; i < 2000000 && ticks < want; i++) __asm__ volatile("sti; nop; nop; cli");
}

/* A word count read back through the counter latch of channel c. */
static uint16_t latch_word(unsigned c)
{
    outb(CTRL, (uint8_t)(c << 6));
    uint8_t lo = inb((uint16_t)(CH0 + c));
    return (uint16_t)(lo | inb((uint16_t)(CH0 + c)) << 8);
}

/* Channel 1 as a clock for the tests of channel 0: mode 2, word access, period 0xfff0. */
static void clock1(void)
{
    outb(CTRL, 0x74);
    outb(CH1, 0xf0); outb(CH1, 0xff);
}

/* Wait (bounded) until channel 1 moved by at least four clocks: time passed, however fast
 * the machine. */
static void pause(void)
{
    uint16_t a = latch_word(1);
    for (long i = 0; i < 1000000; i++) {
        uint16_t b = latch_word(1);
        if (b > a || a - b >= 4) return;
    }
}

/* The read-back status byte of channel c. */
static uint8_t status(unsigned c)
{
    outb(CTRL, (uint8_t)(0xe0 | 2u << c));
    return inb((uint16_t)(CH0 + c));
}

/* Channel 2 in mode 0 with the gate open: wait (bounded) for its output in port 0x61 bit
 * 5; true once it went high. This is the loop kernels calibrate the TSC with. */
static bool ch2_oneshot(uint16_t count, bool *low_first)
{
    outb(PORTB, (uint8_t)((inb(PORTB) & ~0x02) | 0x01));
    outb(CTRL, 0xb0);
    outb(CH2, (uint8_t)count);
    outb(CH2, (uint8_t)(count >> 8));
    *low_first = !(inb(PORTB) & 0x20);
    for (long i = 0; i < 10000000; i++)
        if (inb(PORTB) & 0x20) return true;
    return false;
}

static void periodic_modes(void)
{
    set_handler(0x20, on_tick, 0, false);
    static const uint8_t ctl[] = { 0x34, 0x36 };
    for (unsigned m = 0; m < 2; m++) {
        ticks = 0; late = 0; want_ticks = 10;
        outb(CTRL, ctl[m]);
        outb(CH0, (uint8_t)1193); outb(CH0, 1193 >> 8);        /* 1 kHz */
        pic_mask(0xfffe);
        run_until(10);
        for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
        check_eq(ticks, 10, "mode %u at 1 kHz: ten interrupts, then masked", m ? 3u : 2u);
        check(late <= 1, "mode %u: nothing more once masked", m ? 3u : 2u);
    }
}

static void oneshot(void)
{
    ticks = 0; late = 0; want_ticks = 100;          /* never reached: IRQ0 stays unmasked */
    outb(CTRL, 0x30);
    check_eq(status(0) & 0x3f, 0x30, "mode 0 status: word access, mode 0, binary");
    outb(CH0, (uint8_t)23864); outb(CH0, 23864 >> 8);      /* 20 ms */
    pic_init();                       /* ICW1 clears a request left from the periodic modes */
    uint8_t s = status(0);
    check_eq(s & 0x80, 0x00, "mode 0 after the count: output low");
    pic_mask(0xfffe);
    run_until(1);
    check_eq(ticks, 1, "mode 0: the terminal count interrupts");
    bool low;
    check(ch2_oneshot(0xffff, &low), "waiting 55 ms on channel 2");   /* IRQ0 stays open meanwhile */
    for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
    pic_mask(0xffff);
    check_eq(ticks, 1, "mode 0: one interrupt only");
    check_eq(status(0) & 0x80, 0x80, "mode 0: output high after the terminal count");
}

static void counter_latch(void)
{
    outb(CTRL, 0x30);                                 /* mode 0, from 0xfff0: 55 ms without a wrap */
    outb(CH0, 0xf0); outb(CH0, 0xff);
    uint16_t a = latch_word(0);
    pause();
    outb(CTRL, 0x00);                                 /* latch */
    pause();
    outb(CTRL, 0x00);                                 /* ignored: a latched count waits */
    pause();
    uint16_t b = inb(CH0);
    b |= (uint16_t)(inb(CH0) << 8);
    uint16_t c = latch_word(0);
    check(a <= 0xfff0 && a > 0x8000, "latched count after loading 0xfff0 in range");
    check(b < a, "the counter ran between two latches");
    check(c < b, "the latched value stayed put while the counter ran (second latch ignored)");
}

static void readback(void)
{
    outb(CTRL, 0x14);                                 /* LSB only, mode 2 */
    outb(CH0, 0x80);
    check_eq(status(0) & 0x3f, 0x14, "read-back status: LSB access, mode 2");
    outb(CTRL, 0x1c);                                 /* mode 6 is mode 2 */
    outb(CH0, 0x80);
    check_eq(status(0) & 0x3f, 0x1c, "read-back status: mode 6 as written");
    outb(CTRL, 0x31);
    outb(CH0, 0x00); outb(CH0, 0x50);
    check_eq(status(0) & 0x3f, 0x31, "read-back status: BCD");
    outb(CTRL, 0x30);
    outb(CH0, 0xf0); outb(CH0, 0xff);
    outb(CTRL, 0xc2);                                 /* status and count of channel 0 */
    uint8_t s = inb(CH0);
    uint16_t n = inb(CH0);
    n |= (uint16_t)(inb(CH0) << 8);
    check_eq(s & 0xbf, 0x30, "read-back of both: the status first (output low)");
    check(n <= 0xfff0 && n > 0x8000, "then the count, LSB and MSB");
    outb(CTRL, 0xd2);                                 /* count only */
    n = inb(CH0);
    n |= (uint16_t)(inb(CH0) << 8);
    check(n <= 0xfff0 && n > 0x8000, "read-back of the count only");
    outb(CTRL, 0xe2);
    outb(CTRL, 0xe2);                                 /* a second status latch is ignored */
    s = inb(CH0);
    uint16_t m = inb(CH0);
    m |= (uint16_t)(inb(CH0) << 8);
    check_eq(s & 0xbf, 0x30, "status latched once");
    check(m < n, "and then the running count");
}

static void access_modes(void)
{
    outb(CTRL, 0x20);                                 /* MSB only, mode 0: count 0xff00 */
    outb(CH0, 0xff);
    check_eq(status(0) & 0x3f, 0x20, "MSB-only access in the status");
    outb(CTRL, 0x00);
    uint8_t hi = inb(CH0);
    uint8_t hi2 = inb(CH0);
    check(hi >= 0x80, "MSB-only: one byte, the count's MSB");
    check(hi2 <= hi && hi2 >= 0x80, "the next read is the MSB again");
    outb(CTRL, 0x10);                                 /* LSB only, mode 0: count 0x00f0 */
    outb(CH0, 0xf0);
    outb(CTRL, 0x00);
    uint8_t lo = inb(CH0);
    check(lo <= 0xf0, "LSB-only: one byte, at most the count");
    bool out = false;
    for (long i = 0; i < 1000000 && !out; i++) out = status(0) & 0x80;
    check(out, "LSB-only count 0xf0 (MSB zero) reaches its terminal count");
    outb(CTRL, 0x30);
    outb(CH0, 0x34); outb(CH0, 0xff);                /* word: LSB then MSB */
    uint16_t w = latch_word(0);
    check(w <= 0xff34 && w > 0x8000, "word access: LSB then MSB");
    outb(CTRL, 0x30);                                 /* a new control word resets the byte order */
    outb(CH0, 0x10);
    outb(CTRL, 0x30);
    outb(CH0, 0x00); outb(CH0, 0xf0);
    w = latch_word(0);
    check(w <= 0xf000 && w > 0x8000, "a control word restarts the LSB/MSB sequence");
}

static void channel1(void)
{
    outb(CTRL, 0x74);                                 /* channel 1, word, mode 2 */
    outb(CH1, 0xf0); outb(CH1, 0xff);
    check_eq(status(1) & 0x3f, 0x34, "channel 1 status: word, mode 2");
    uint16_t a = latch_word(1);
    pause();
    uint16_t b = latch_word(1);
    check(a <= 0xfff0 && b <= 0xfff0 && a != b, "channel 1 counts");
}

static void channel2(void)
{
    uint8_t was = inb(PORTB);
    outb(PORTB, was & ~0x03);
    check_eq(inb(PORTB) & 0x03, 0x00, "port 0x61: gate and speaker off");
    outb(PORTB, (uint8_t)((was & ~0x03) | 0x01));
    check_eq(inb(PORTB) & 0x03, 0x01, "port 0x61: gate 2 on reads back");
    bool low;
    bool high = ch2_oneshot(0xffff, &low);
    check(low, "channel 2 mode 0: output (bit 5) low after loading");
    check(high, "and high at the terminal count, polled");
    check_eq(status(2) & 0xff, 0xb0, "channel 2 status: output high, word, mode 0");
    high = ch2_oneshot(1193 * 10, &low);
    check(low && high, "again for 10 ms (the calibration loop)");
    outb(PORTB, was & ~0x03);
    uint8_t r0 = inb(PORTB) & 0x10;
    bool toggled = false;
    for (long i = 0; i < 100000 && !toggled; i++) toggled = (inb(PORTB) & 0x10) != r0;
    check(toggled, "port 0x61 bit 4 (refresh) toggles");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pic_init();
    periodic_modes();
    oneshot();
    clock1();
    counter_latch();
    readback();
    access_modes();
    channel1();
    channel2();
    pic_mask(0xffff);
    return summary("pit");
}

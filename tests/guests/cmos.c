/* The CMOS and RTC (an MC146818 as a PC has it): the clock registers in BCD and binary, 12
 * and 24 hours, registers A-D, SET holding the clock while it is written, a date rolling
 * over (the weekday counter with it), register C's flags and their clearing, the periodic interrupt on IRQ8 at two
 * rates, the NMI bit of port 0x70, free CMOS bytes, the memory sizes a BIOS stores. The
 * time itself is never printed: only facts about it (valid BCD, a plausible date, two
 * formats agreeing) and times this guest set itself. */
#include "tests/guests/lib/guest.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d

static uint8_t rd(uint8_t r) { outb(0x70, r); return inb(0x71); }
static void wr(uint8_t r, uint8_t v) { outb(0x70, r); outb(0x71, v); }
static bool is_bcd(uint8_t v) { return (v & 0xf) < 10 && (v >> 4) < 10; }
static unsigned bcd(uint8_t v) { return (v >> 4) * 10u + (v & 0xfu); }

/* Wait (bounded) until no update is in progress, so that a few reads see one second. */
static void no_update(void)
{
    for (long i = 0; i < 1000000 && (rd(REG_A) & 0x80); i++) ;
}

static void defaults(void)
{
    check_eq(rd(REG_A) & 0x7f, 0x26, "A: 32.768 kHz time base, 1024 Hz rate");
    check_eq(rd(REG_B), 0x02, "B: 24 hours, BCD, no interrupts");
    check_eq(rd(REG_D), 0x80, "D: valid RAM and time (VRT)");
    wr(REG_D, 0x00);
    check_eq(rd(REG_D), 0x80, "D is read-only");
    check_eq(inb(0x70), 0xff, "port 0x70 reads 0xff");
}

static void time_now(void)
{
    static const uint8_t regs[] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32 };
    uint8_t v[8];
    no_update();
    for (unsigned i = 0; i < 8; i++) v[i] = rd(regs[i]);
    bool ok = true;
    for (unsigned i = 0; i < 8; i++) ok = ok && is_bcd(v[i]);
    check(ok, "the clock registers hold valid BCD");
    check(bcd(v[0]) < 60 && bcd(v[1]) < 60 && bcd(v[2]) < 24, "a plausible time of day");
    check(bcd(v[3]) >= 1 && bcd(v[3]) <= 7, "a weekday 1-7");
    check(bcd(v[4]) >= 1 && bcd(v[4]) <= 31 && bcd(v[5]) >= 1 && bcd(v[5]) <= 12, "a plausible day and month");
    check(v[7] == 0x20 && bcd(v[6]) >= 24, "a plausible year (20xx, 2024 or later)");

    /* Binary and 12-hour forms of the same moment (read again if an hour or a year ends). */
    bool same = false, bin_ok = false, h12_ok = false;
    for (int tries = 0; tries < 3 && !same; tries++) {
        no_update();
        uint8_t h24 = rd(0x04), y = rd(0x09);
        wr(REG_B, 0x06);
        uint8_t hb = rd(0x04), yb = rd(0x09), mb = rd(0x02), sb = rd(0x00);
        wr(REG_B, 0x00);
        uint8_t h12 = rd(0x04);
        wr(REG_B, 0x02);
        same = rd(0x04) == h24 && rd(0x09) == y;
        bin_ok = hb == bcd(h24) && yb == bcd(y) && mb < 60 && sb < 60;
        unsigned h = bcd(h24), want12 = h % 12 ? h % 12 : 12;
        h12_ok = is_bcd(h12 & 0x7f) && bcd(h12 & 0x7f) == want12 && !!(h12 & 0x80) == (h >= 12);
    }
    check(bin_ok, "binary mode (B bit 2): the same hour and year in binary");
    check(h12_ok, "12-hour mode (B bit 1 clear): hour 1-12 with PM in bit 7");
}

/* Set the clock with SET held, the weekday too: it is a counter of its own on the MC146818
 * (QEMU computes it from the date; written right, both agree). */
static void set_clock(uint8_t b, const uint8_t *v, uint8_t wday)
{
    static const uint8_t regs[] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    wr(REG_B, (uint8_t)(b | 0x80));
    for (unsigned i = 0; i < 7; i++) wr(regs[i], v[i]);
    wr(0x06, wday);
}

static bool reads(const uint8_t *v)
{
    static const uint8_t regs[] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    for (unsigned i = 0; i < 7; i++)
        if (rd(regs[i]) != v[i]) return false;
    return true;
}

static void set_bit(void)
{
    wr(REG_B, 0x82 | 0x10);
    check_eq(rd(REG_B), 0x82, "SET clears UIE");
    check_eq(rd(REG_A) & 0x80, 0, "no update in progress while SET holds the clock");
    wr(REG_A, 0xa6);
    check_eq(rd(REG_A), 0x26, "UIP is read-only");
    static const uint8_t t1[] = { 0x56, 0x34, 0x12, 0x28, 0x02, 0x21, 0x20 };
    set_clock(0x02, t1, 1);
    check(reads(t1), "BCD time written with SET reads back");
    for (int i = 0; i < 100000; i++) inb(0x80);
    check(reads(t1), "and again, unchanged, while SET holds");
    wr(REG_B, 0x02);
    uint8_t s = rd(0x00);
    check((s == 0x56 || s == 0x57) && rd(0x02) == 0x34 && rd(0x04) == 0x12 && rd(0x07) == 0x28 &&
          rd(0x08) == 0x02 && rd(0x09) == 0x21, "released, the clock runs from 2021-02-28 12:34:56");
    check_eq(rd(0x06), 1, "the weekday as written");

    static const uint8_t t2[] = { 30, 15, 13, 15, 6, 22, 20 };
    set_clock(0x06, t2, 4);
    check(reads(t2), "binary time written with SET reads back");
    wr(REG_B, 0x06);
    s = rd(0x00);
    check((s == 30 || s == 31) && rd(0x02) == 15 && rd(0x04) == 13 && rd(0x08) == 6,
          "released in binary: 13:15:30 on 2022-06-15");
    static const uint8_t t3[] = { 0x45, 0x30, 0x81, 0x10, 0x10, 0x23, 0x20 };
    set_clock(0x00, t3, 3);                  /* 12-hour BCD: 1:30:45 pm */
    check(reads(t3), "12-hour time written with SET reads back");
    wr(REG_B, 0x00);
    check_eq(rd(0x04), 0x81, "released in 12-hour form: hour 0x81 (1 pm)");
    wr(REG_B, 0x02);
}

/* 2021-02-28 23:59:59, released: the next update makes it Monday 2021-03-01 00:00:00. */
static void rollover(void)
{
    static const uint8_t t[] = { 0x59, 0x59, 0x23, 0x28, 0x02, 0x21, 0x20 };
    wr(0x01, 0x00); wr(0x03, 0x00); wr(0x05, 0x00);   /* the alarm at 00:00:00 */
    set_clock(0x02, t, 1);
    wr(REG_B, 0x02);
    rd(REG_C);
    bool rolled = false;
    /* Up to 25 x 55 ms, timed by PIT channel 2 in mode 0 (gate open, output in 0x61 bit 5). */
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    for (int k = 0; k < 25 && !rolled; k++) {
        outb(0x43, 0xb0);
        outb(0x42, 0xff); outb(0x42, 0xff);
        for (long i = 0; i < 10000000 && !rolled && !(inb(0x61) & 0x20); i++) rolled = rd(0x00) != 0x59;
    }
    outb(0x61, inb(0x61) & ~0x03);
    no_update();
    uint8_t v[6] = { rd(0x00), rd(0x02), rd(0x04), rd(0x07), rd(0x08), rd(0x06) };
    uint8_t c = rd(REG_C);
    check(rolled, "the second changed after the release");
    check(v[0] <= 0x01 && v[1] == 0 && v[2] == 0 && v[3] == 0x01 && v[4] == 0x03, "now 2021-03-01 00:00");
    check_eq(v[5], 2, "the weekday counter advanced at midnight: Sunday to Monday");
    check_eq(c & 0x10, 0x10, "C: the update-ended flag (UF) set");
    check_eq(c & 0x20, 0x20, "C: the alarm flag (AF) at 00:00:00");
    check_eq(c & 0x80, 0, "without UIE or AIE, no IRQF");
}

static void flags(void)
{
    wr(REG_B, 0x02);
    wr(REG_B, 0x7b);
    check_eq(rd(REG_B), 0x7b, "B: PIE, AIE, UIE, SQWE, DM... read back");
    wr(REG_B, 0x02);
    wr(REG_A, 0x2f);
    check_eq(rd(REG_A) & 0x7f, 0x2f, "A: rate written");
    wr(REG_A, 0x26);
    rd(REG_C);
    wr(REG_B, 0x42);
    uint8_t c = 0;
    for (long i = 0; i < 1000000 && !(c & 0x40); i++) c = rd(REG_C);
    check_eq(c & 0xc0, 0xc0, "C: PF and IRQF with PIE");
    wr(REG_B, 0x02);
    wr(REG_A, 0x20);                      /* rate 0: no periodic flag at all */
    rd(REG_C);
    check_eq(rd(REG_C) & 0xc0, 0, "C: reading it cleared the flags");
    wr(REG_A, 0x26);
}

static volatile uint32_t irqs, good_c, want, late;

/* Count to want, then clear PIE. A flag raised between the read of C and that write has
 * already sent its edge, so one more may come (a slow machine): counted apart. */
static void on_irq8(struct gframe *f)
{
    (void)f;
    uint8_t c = rd(REG_C);
    if (irqs >= want) { late++; pic_eoi(8); return; }
    if ((c & 0xc0) == 0xc0) good_c++;
    if (++irqs == want) wr(REG_B, 0x02);
    pic_eoi(8);
}

static void periodic(void)
{
    set_handler(0x28, on_irq8, 0, false);
    static const uint8_t rate[] = { 0x26, 0x23 };
    for (unsigned r = 0; r < 2; r++) {
        irqs = 0; good_c = 0; want = 32; late = 0;
        wr(REG_A, rate[r]);
        rd(REG_C);
        pic_init();                       /* ICW1 clears an IRQ8 latched while it was masked */
        pic_mask(0xfefb);
        wr(REG_B, 0x42);
        for (long i = 0; i < 2000000 && irqs < want; i++) __asm__ volatile("sti; nop; nop; cli");
        for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
        pic_mask(0xffff);
        wr(REG_B, 0x02);
        check_eq(irqs, 32, "periodic IRQ8 at %s Hz: 32, then PIE cleared", r ? "8192" : "1024");
        check_eq(good_c, 32, "each with PF and IRQF in C");
        check(late <= 1, "none once PIE is clear");
    }
    wr(REG_A, 0x26);
    rd(REG_C);
}

static void ram(void)
{
    outb(0x70, 0x8d);                     /* bit 7: NMI off; register D */
    check_eq(inb(0x71), 0x80, "index with the NMI-disable bit selects the same register");
    outb(0x70, 0x0d);
    uint8_t keep[8];
    for (unsigned i = 0; i < 8; i++) keep[i] = rd((uint8_t)(0x38 + i));
    for (unsigned i = 0; i < 8; i++) wr((uint8_t)(0x38 + i), (uint8_t)(0x5a ^ (i * 0x11)));
    bool ok = true;
    for (unsigned i = 0; i < 8; i++) ok = ok && rd((uint8_t)(0x38 + i)) == (uint8_t)(0x5a ^ (i * 0x11));
    outb(0x70, 0xb9);
    outb(0x71, 0xc3);                     /* through an index with bit 7 set */
    ok = ok && rd(0x39) == 0xc3;
    for (unsigned i = 0; i < 8; i++) wr((uint8_t)(0x38 + i), keep[i]);
    outb(0x70, 0x0d);
    check(ok, "CMOS bytes 0x38-0x3f keep what is written");
    check_eq(rd(0x15) | rd(0x16) << 8, 640, "0x15-0x16: 640 KiB base memory");
    check_eq(rd(0x17) | rd(0x18) << 8, 63 * 1024, "0x17-0x18: 63 MiB above 1 MiB");
    check_eq(rd(0x30) | rd(0x31) << 8, 63 * 1024, "0x30-0x31: the same");
    check_eq(rd(0x34) | rd(0x35) << 8, 48 * 16, "0x34-0x35: 48 MiB above 16 MiB in 64 KiB units");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pic_init();
    defaults();
    time_now();
    set_bit();
    rollover();
    flags();
    periodic();
    ram();
    return summary("cmos");
}

/* The virtual CMOS: time in BCD and binary, 12-hour form, no update in progress, setting the
 * clock, SET holding it, register C's flags and IRQ8, the memory-size bytes; and the
 * calendar conversions it rests on. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vcmos.h"
#include "drivers/rtc.h"

static uint8_t rd(struct vcmos *c, uint8_t reg, uint64_t ns) { vcmos_write(c, 0x70, reg, ns); return vcmos_read(c, 0x71, ns); }
static void wr(struct vcmos *c, uint8_t reg, uint8_t v, uint64_t ns) { vcmos_write(c, 0x70, reg, ns); vcmos_write(c, 0x71, v, ns); }
#define SEC 1000000000ull

TEST(vcmos_set_holds_the_clock)
{
    struct vcmos c;
    struct rtc_time t = { 2026, 11, 24, 23, 16, 46 };
    vcmos_init(&c, rtc_to_epoch(&t), 64u << 20);
    wr(&c, 0x0b, 0x82 | 0x10, 0);                     /* SET with UIE: UIE is cleared */
    CHECK_EQ(rd(&c, 0x0b, 0), 0x82);
    CHECK_EQ(rd(&c, 0x00, 3 * SEC), 0x46);          /* frozen */
    wr(&c, 0x07, 0x31, 3 * SEC);                      /* day 31 of month 11: held as a byte */
    CHECK_EQ(rd(&c, 0x07, 3 * SEC), 0x31);
    wr(&c, 0x07, 0x28, 3 * SEC);
    wr(&c, 0x08, 0x02, 3 * SEC);
    wr(&c, 0x09, 0x21, 3 * SEC);
    wr(&c, 0x04, 0x23, 3 * SEC); wr(&c, 0x02, 0x59, 3 * SEC); wr(&c, 0x00, 0x59, 3 * SEC);
    CHECK_EQ(rd(&c, 0x06, 3 * SEC), 3);             /* the weekday counter: still Tuesday */
    wr(&c, 0x06, 0x01, 3 * SEC);                      /* a Sunday, as 2021-02-28 was */
    wr(&c, 0x0b, 0x02, 3 * SEC);                      /* release: 2021-02-28 23:59:59 */
    CHECK_EQ(rd(&c, 0x00, 3 * SEC), 0x59);
    CHECK_EQ(rd(&c, 0x07, 4 * SEC), 0x01);          /* one second on: 1 March, a Monday */
    CHECK_EQ(rd(&c, 0x08, 4 * SEC), 0x03);
    CHECK_EQ(rd(&c, 0x06, 4 * SEC), 2);             /* the counter advanced at midnight */
    wr(&c, 0x07, 0x05, 4 * SEC);                      /* a date set while running: the weekday stays */
    CHECK_EQ(rd(&c, 0x06, 4 * SEC), 2);
    CHECK_EQ(rd(&c, 0x06, 4 * SEC + 86400 * SEC), 3);
    wr(&c, 0x06, 0x07, 4 * SEC);                      /* written while running */
    CHECK_EQ(rd(&c, 0x06, 4 * SEC), 7);
    CHECK_EQ(rd(&c, 0x06, 4 * SEC + 86400 * SEC), 1);
    wr(&c, 0x07, 0x01, 4 * SEC);
    wr(&c, 0x0b, 0x80, 4 * SEC);                      /* SET, 12-hour BCD: write 1 pm */
    wr(&c, 0x04, 0x81, 4 * SEC);
    wr(&c, 0x0b, 0x00, 4 * SEC);
    CHECK_EQ(rd(&c, 0x04, 4 * SEC), 0x81);
    wr(&c, 0x0b, 0x02, 4 * SEC);
    CHECK_EQ(rd(&c, 0x04, 4 * SEC), 0x13);
    wr(&c, 0x0b, 0x82, 4 * SEC);                      /* a month 13 is no date: the clock stays */
    wr(&c, 0x08, 0x13, 4 * SEC);
    wr(&c, 0x0b, 0x02, 4 * SEC);
    CHECK_EQ(rd(&c, 0x08, 4 * SEC), 0x03);
}

TEST(vcmos_register_c_flags_and_irq8)
{
    struct vcmos c;
    vcmos_init(&c, 0, 64u << 20);
    CHECK(!vcmos_update(&c, 0));
    rd(&c, 0x0c, 0);
    CHECK(!vcmos_update(&c, 500000));               /* 0.5 ms: no 1024 Hz tick yet */
    CHECK(!vcmos_update(&c, 1000000));              /* a tick: PF, but PIE is off */
    CHECK_EQ(rd(&c, 0x0c, 1000000), 0x40);
    CHECK_EQ(rd(&c, 0x0c, 1000000), 0x00);          /* reading cleared it */
    wr(&c, 0x0b, 0x42, 1000000);                      /* PIE */
    CHECK(!vcmos_update(&c, 1500000));
    CHECK(vcmos_update(&c, 2000000));               /* next tick: IRQF, IRQ8 high */
    CHECK(vcmos_irq(&c));
    CHECK_EQ(rd(&c, 0x0c, 2000000), 0xc0);
    CHECK(!vcmos_irq(&c));                          /* reading C lowered it */
    CHECK(vcmos_update(&c, 3000000));               /* IRQF again at the next tick */
    wr(&c, 0x0b, 0x02, 3000000);                      /* PIE off: IRQF follows, PF stays */
    CHECK(!vcmos_update(&c, 3000000));
    CHECK_EQ(rd(&c, 0x0c, 3000000), 0x40);
    wr(&c, 0x0b, 0x42, 3000000);
    wr(&c, 0x0a, 0x20, 2000000);                      /* rate 0: no periodic flag */
    CHECK(!vcmos_update(&c, 900000000));
    CHECK(vcmos_update(&c, SEC) == false);          /* UF at the second, UIE off */
    CHECK_EQ(rd(&c, 0x0c, SEC), 0x10);
    wr(&c, 0x0b, 0x12, SEC);                          /* UIE */
    CHECK(vcmos_update(&c, 2 * SEC));
    CHECK_EQ(rd(&c, 0x0c, 2 * SEC), 0x90);
    wr(&c, 0x01, 0xc0, 2 * SEC); wr(&c, 0x03, 0xc0, 2 * SEC); wr(&c, 0x05, 0xc0, 2 * SEC);
    wr(&c, 0x0b, 0x22, 2 * SEC);                      /* AIE, every second matches */
    CHECK(vcmos_update(&c, 3 * SEC));
    CHECK_EQ(rd(&c, 0x0c, 3 * SEC), 0xb0);
    wr(&c, 0x0b, 0x82, 3 * SEC);                      /* SET: no update cycles */
    CHECK(!vcmos_update(&c, 5 * SEC));
    CHECK_EQ(rd(&c, 0x0c, 5 * SEC), 0x00);
}

TEST(vcmos_time_bcd_binary_12h)
{
    struct vcmos c;
    struct rtc_time t = { 2026, 11, 24, 23, 16, 46 };
    vcmos_init(&c, rtc_to_epoch(&t), 64u << 20);
    CHECK_EQ(rd(&c, 0x00, 0), 0x46);
    CHECK_EQ(rd(&c, 0x04, 0), 0x23);
    CHECK_EQ(rd(&c, 0x09, 0), 0x26);
    CHECK_EQ(rd(&c, 0x32, 0), 0x20);
    CHECK_EQ(rd(&c, 0x06, 0), 3);                   /* a Tuesday */
    CHECK_EQ(rd(&c, 0x00, 5000000000ull), 0x51);    /* five seconds later */
    CHECK_EQ(rd(&c, 0x0a, 0) & 0x80, 0);            /* never an update in progress */
    CHECK_EQ(rd(&c, 0x0d, 0), 0x80);
    vcmos_write(&c, 0x70, 0x0b, 0); vcmos_write(&c, 0x71, 0x04, 0);   /* binary, 12-hour */
    CHECK_EQ(rd(&c, 0x04, 0), 0x80 | 11);           /* 11 pm */
    CHECK_EQ(rd(&c, 0x02, 0), 16);
}

TEST(vcmos_set_clock_and_memory_bytes)
{
    struct vcmos c;
    vcmos_init(&c, 0, 64u << 20);
    vcmos_write(&c, 0x70, 0x02, 0); vcmos_write(&c, 0x71, 0x42, 0);    /* minutes = 42 (BCD) */
    CHECK_EQ(rd(&c, 0x02, 0), 0x42);
    CHECK_EQ(rd(&c, 0x02, 60000000000ull), 0x43);
    CHECK_EQ(rd(&c, 0x15, 0) | rd(&c, 0x16, 0) << 8, 640);
    CHECK_EQ(rd(&c, 0x17, 0) | rd(&c, 0x18, 0) << 8, 63 * 1024);
    CHECK_EQ(rd(&c, 0x34, 0) | rd(&c, 0x35, 0) << 8, 48 * 16);
    vcmos_init(&c, 0, 128u << 20);
    CHECK_EQ(rd(&c, 0x30, 0) | rd(&c, 0x31, 0) << 8, 0xffff);     /* capped as QEMU's */
    vcmos_write(&c, 0x70, 0x0a, 0); vcmos_write(&c, 0x71, 0xff, 0);
    CHECK_EQ(rd(&c, 0x0a, 0), 0x7f);                /* UIP cannot be set */
}

TEST(rtc_epoch_round_trip)
{
    struct rtc_time t = { 2000, 2, 29, 12, 0, 1 }, u;
    uint64_t e = rtc_to_epoch(&t);
    CHECK_EQ(e, 951825601ull);
    rtc_from_epoch(e, &u);
    CHECK(u.year == 2000 && u.month == 2 && u.day == 29 && u.hour == 12 && u.second == 1);
    rtc_from_epoch(0, &u);
    CHECK(u.year == 1970 && u.month == 1 && u.day == 1);
}

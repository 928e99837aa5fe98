/* The virtual CMOS: time in BCD and binary, 12-hour form, no update in progress, setting the
 * clock, the memory-size bytes; and the calendar conversions it rests on. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vcmos.h"
#include "drivers/rtc.h"

static uint8_t rd(struct vcmos *c, uint8_t reg, uint64_t ns) { vcmos_write(c, 0x70, reg, ns); return vcmos_read(c, 0x71, ns); }

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

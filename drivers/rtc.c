/* The host's CMOS clock: waits out an update, reads the time, converts BCD and 12-hour forms. */
#include "drivers/rtc.h"
#include "arch/x86/io.h"

/* A CMOS register (NMI left enabled). */
static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static uint8_t from_bcd(uint8_t v) { return (uint8_t)((v >> 4) * 10 + (v & 0xf)); }

void rtc_read(struct rtc_time *t)
{
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++) ;
    uint8_t s = cmos(0x00), m = cmos(0x02), h = cmos(0x04), d = cmos(0x07), mo = cmos(0x08), y = cmos(0x09);
    uint8_t b = cmos(0x0b);
    bool pm = h & 0x80;
    h &= 0x7f;
    if (!(b & 0x04)) { s = from_bcd(s); m = from_bcd(m); h = from_bcd(h); d = from_bcd(d); mo = from_bcd(mo); y = from_bcd(y); }
    if (!(b & 0x02) && pm) h = (uint8_t)((h % 12) + 12);
    else if (!(b & 0x02) && h == 12) h = 0;
    *t = (struct rtc_time){ (uint16_t)(2000 + y), mo, d, h, m, s };
}

/* Days from 1970-01-01 to y-m-d (the civil calendar). */
static int64_t days(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

uint64_t rtc_to_epoch(const struct rtc_time *t)
{
    return (uint64_t)days(t->year, t->month, t->day) * 86400 + t->hour * 3600u + t->minute * 60u + t->second;
}

void rtc_from_epoch(uint64_t secs, struct rtc_time *t)
{
    int64_t z = (int64_t)(secs / 86400) + 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    uint32_t rem = (uint32_t)(secs % 86400);
    *t = (struct rtc_time){ (uint16_t)(yoe + era * 400 + (m <= 2)), (uint8_t)m, (uint8_t)d,
                            (uint8_t)(rem / 3600), (uint8_t)(rem / 60 % 60), (uint8_t)(rem % 60) };
}

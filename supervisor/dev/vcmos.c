/* The virtual CMOS: the clock registers follow device time (BCD or binary, 12 or 24 hours as
 * register B says), register A never reports an update in progress, D says the battery is
 * good, and the memory bytes hold what a PC BIOS would have stored. */
#include "supervisor/dev/vcmos.h"
#include "drivers/rtc.h"
#include "lib/string.h"

void vcmos_init(struct vcmos *c, uint64_t epoch, uint32_t mem_bytes)
{
    memset(c, 0, sizeof *c);
    c->epoch_at_boot = epoch;
    c->ram[CMOS_A] = 0x26;                  /* 32.768 kHz base, 1024 Hz rate */
    c->ram[CMOS_B] = CMOS_B_24H;            /* BCD, 24-hour, no interrupts */
    c->ram[CMOS_D] = 0x80;                  /* valid RAM and time */
    c->ram[0x15] = 0x80; c->ram[0x16] = 0x02;          /* 640 KiB base memory */
    uint32_t ext = mem_bytes > 0x100000 ? (mem_bytes - 0x100000) >> 10 : 0;
    if (ext > 0xfc00) ext = 0xfc00;
    c->ram[0x17] = c->ram[0x30] = (uint8_t)ext;
    c->ram[0x18] = c->ram[0x31] = (uint8_t)(ext >> 8);
    uint32_t above16 = mem_bytes > 0x1000000 ? (mem_bytes - 0x1000000) >> 16 : 0;
    if (above16 > 0xffff) above16 = 0xffff;
    c->ram[0x34] = (uint8_t)above16; c->ram[0x35] = (uint8_t)(above16 >> 8);
}

static uint8_t to_bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }

/* A clock register's value now, in the format register B asks for. */
static uint8_t clock_reg(const struct vcmos *c, uint8_t reg, uint64_t now_ns)
{
    struct rtc_time t;
    uint64_t secs = (uint64_t)((int64_t)(c->epoch_at_boot + now_ns / 1000000000u) + c->adjust);
    rtc_from_epoch(secs, &t);
    unsigned v;
    bool pm = false;
    switch (reg) {
    case CMOS_SEC: v = t.second; break;
    case CMOS_MIN: v = t.minute; break;
    case CMOS_HOUR:
        v = t.hour;
        if (!(c->ram[CMOS_B] & CMOS_B_24H)) { pm = v >= 12; v = v % 12 ? v % 12 : 12; }
        break;
    case CMOS_WDAY: v = (unsigned)((secs / 86400 + 4) % 7) + 1; break;   /* 1970-01-01 was a Thursday */
    case CMOS_DAY: v = t.day; break;
    case CMOS_MON: v = t.month; break;
    case CMOS_YEAR: v = t.year % 100; break;
    default: v = t.year / 100; break;     /* CMOS_CENTURY */
    }
    uint8_t r = (c->ram[CMOS_B] & CMOS_B_BIN) ? (uint8_t)v : to_bcd(v);
    return pm ? (uint8_t)(r | 0x80) : r;
}

static bool is_clock(uint8_t reg)
{
    return reg == CMOS_SEC || reg == CMOS_MIN || reg == CMOS_HOUR || (reg >= CMOS_WDAY && reg <= CMOS_YEAR) ||
           reg == CMOS_CENTURY;
}

uint8_t vcmos_read(struct vcmos *c, uint16_t port, uint64_t now_ns)
{
    if (port == VCMOS_INDEX) return 0xff;
    uint8_t reg = c->index & 0x7f;
    if (is_clock(reg)) return clock_reg(c, reg, now_ns);
    if (reg == CMOS_C) { uint8_t v = c->ram[CMOS_C]; c->ram[CMOS_C] = 0; return v; }
    return c->ram[reg];
}

/* Decode a clock register value written by the guest, in register B's format. */
static unsigned from_guest(const struct vcmos *c, uint8_t v)
{
    if (c->ram[CMOS_B] & CMOS_B_BIN) return v;
    return (unsigned)(v >> 4) * 10 + (v & 0xf);
}

void vcmos_write(struct vcmos *c, uint16_t port, uint8_t v, uint64_t now_ns)
{
    if (port == VCMOS_INDEX) { c->index = v; return; }
    uint8_t reg = c->index & 0x7f;
    if (reg == CMOS_C || reg == CMOS_D) return;                 /* read-only */
    if (reg == CMOS_A) { c->ram[CMOS_A] = v & 0x7f; return; }   /* UIP is read-only */
    if (is_clock(reg) && reg != CMOS_WDAY && reg != CMOS_CENTURY) {
        /* Setting the clock moves its offset so that this field reads back what was written. */
        struct rtc_time t;
        uint64_t secs = (uint64_t)((int64_t)(c->epoch_at_boot + now_ns / 1000000000u) + c->adjust);
        rtc_from_epoch(secs, &t);
        unsigned x = from_guest(c, v & (reg == CMOS_HOUR ? 0x7f : 0xff));
        switch (reg) {
        case CMOS_SEC: t.second = (uint8_t)x; break;
        case CMOS_MIN: t.minute = (uint8_t)x; break;
        case CMOS_HOUR: t.hour = (uint8_t)x; break;
        case CMOS_DAY: t.day = (uint8_t)x; break;
        case CMOS_MON: t.month = (uint8_t)x; break;
        default: t.year = (uint16_t)(t.year / 100 * 100 + x); break;
        }
        c->adjust += (int64_t)rtc_to_epoch(&t) - (int64_t)secs;
        return;
    }
    c->ram[reg] = v;
}

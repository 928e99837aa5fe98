/* The virtual CMOS: the clock registers follow device time (BCD or binary, 12 or 24 hours as
 * register B says), register A never reports an update in progress, D says the battery is
 * good, and the memory bytes hold what a PC BIOS would have stored.
 *
 * While register B's SET bit holds the clock, the clock registers are plain bytes in ram[]:
 * frozen at the moment SET went up, written and read back as they are. Releasing SET reads
 * them back as a date (in the format of the moment) and the clock runs on from there.
 *
 * The day of the week is a counter of its own, as on the MC146818: it advances at midnight
 * and keeps whatever was written, right or wrong; setting the date does not change it. */
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
    c->ram[0x14] = 0x06;                    /* equipment: x87, and bit 2 as QEMU sets it */
    c->ram[0x15] = 0x80; c->ram[0x16] = 0x02;          /* 640 KiB base memory */
    uint32_t ext = mem_bytes > 0x100000 ? (mem_bytes - 0x100000) >> 10 : 0;
    if (ext > 0xffff) ext = 0xffff;
    c->ram[0x17] = c->ram[0x30] = (uint8_t)ext;
    c->ram[0x18] = c->ram[0x31] = (uint8_t)(ext >> 8);
    uint32_t above16 = mem_bytes > 0x1000000 ? (mem_bytes - 0x1000000) >> 16 : 0;
    if (above16 > 0xffff) above16 = 0xffff;
    c->ram[0x34] = (uint8_t)above16; c->ram[0x35] = (uint8_t)(above16 >> 8);
}

static uint8_t to_bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }

/* The clock's seconds since 1970 at device time now_ns. */
static uint64_t clock_secs(const struct vcmos *c, uint64_t now_ns)
{
    return (uint64_t)((int64_t)(c->epoch_at_boot + now_ns / 1000000000u) + c->adjust);
}

/* A clock register's value for time secs, in the format register B asks for. */
static uint8_t clock_reg(const struct vcmos *c, uint8_t reg, uint64_t secs)
{
    struct rtc_time t;
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
    case CMOS_WDAY: v = (unsigned)((secs / 86400 + 4 + c->wday_shift) % 7) + 1; break;   /* 1970-01-01: a Thursday */
    case CMOS_DAY: v = t.day; break;
    case CMOS_MON: v = t.month; break;
    case CMOS_YEAR: v = t.year % 100; break;
    default: v = t.year / 100; break;     /* CMOS_CENTURY */
    }
    uint8_t r = (c->ram[CMOS_B] & CMOS_B_BIN) ? (uint8_t)v : to_bcd(v);
    return pm ? (uint8_t)(r | 0x80) : r;
}

/* Make the weekday counter read w (1-7) at time secs; other values leave it as it was. */
static void set_wday(struct vcmos *c, unsigned w, uint64_t secs)
{
    if (w < 1 || w > 7) return;
    unsigned own = (unsigned)((secs / 86400 + 4) % 7);
    c->wday_shift = (uint8_t)((w - 1 + 7 - own) % 7);
}

static bool is_clock(uint8_t reg)
{
    return reg == CMOS_SEC || reg == CMOS_MIN || reg == CMOS_HOUR || (reg >= CMOS_WDAY && reg <= CMOS_YEAR) ||
           reg == CMOS_CENTURY;
}

static bool held(const struct vcmos *c) { return c->ram[CMOS_B] & CMOS_B_SET; }

/* Decode a clock register value in register B's format. */
static unsigned from_guest(const struct vcmos *c, uint8_t v)
{
    if (c->ram[CMOS_B] & CMOS_B_BIN) return v;
    return (unsigned)(v >> 4) * 10 + (v & 0xf);
}

/* Decode an hour register value: in 12-hour form bit 7 is PM and 12 is the first hour. */
static unsigned hour_from_guest(const struct vcmos *c, uint8_t v)
{
    unsigned h = from_guest(c, v & 0x7f);
    if (c->ram[CMOS_B] & CMOS_B_24H) return h;
    return h % 12 + ((v & 0x80) ? 12 : 0);
}

/* Periodic-rate ticks (RS3-RS0 in register A, 1 and 2 as 8 and 9) up to now, or 0 for none. */
static uint64_t rate_ticks(const struct vcmos *c, uint64_t now_ns)
{
    unsigned rs = c->ram[CMOS_A] & CMOS_A_RATE;
    if (!rs) return 0;
    if (rs < 3) rs += 7;
    uint64_t t32k = (now_ns / 1000000000u) * 32768u + (now_ns % 1000000000u) * 32768u / 1000000000u;
    return t32k >> (rs - 1);
}

/* Does the alarm (registers 1, 3, 5; 0xc0-0xff match anything) match time secs? */
static bool alarm_matches(const struct vcmos *c, uint64_t secs)
{
    static const uint8_t pairs[3][2] = { { CMOS_ALARM_SEC, CMOS_SEC }, { CMOS_ALARM_MIN, CMOS_MIN },
                                         { CMOS_ALARM_HOUR, CMOS_HOUR } };
    for (unsigned i = 0; i < 3; i++) {
        uint8_t a = c->ram[pairs[i][0]];
        if (a < 0xc0 && a != clock_reg(c, pairs[i][1], secs)) return false;
    }
    return true;
}

bool vcmos_update(struct vcmos *c, uint64_t now_ns)
{
    uint64_t tick = rate_ticks(c, now_ns);
    if (tick > c->pf_tick) c->ram[CMOS_C] |= CMOS_C_PF;
    c->pf_tick = tick;
    uint64_t sec = now_ns / 1000000000u;
    if (sec != c->last_sec && !held(c)) {
        c->ram[CMOS_C] |= CMOS_C_UF;
        if (alarm_matches(c, clock_secs(c, now_ns))) c->ram[CMOS_C] |= CMOS_C_AF;
    }
    c->last_sec = sec;
    /* IRQF = PF.PIE + AF.AIE + UF.UIE (MC146818): clearing an enable in B takes IRQF and
     * IRQ8 down with it while its flag stays for C to show. */
    if (c->ram[CMOS_C] & c->ram[CMOS_B] & (CMOS_C_PF | CMOS_C_AF | CMOS_C_UF)) c->ram[CMOS_C] |= CMOS_C_IRQF;
    else c->ram[CMOS_C] &= (uint8_t)~CMOS_C_IRQF;
    return vcmos_irq(c);
}

bool vcmos_irq(const struct vcmos *c) { return c->ram[CMOS_C] & CMOS_C_IRQF; }

uint8_t vcmos_read(struct vcmos *c, uint16_t port, uint64_t now_ns)
{
    if (port == VCMOS_INDEX) return 0xff;
    uint8_t reg = c->index & 0x7f;
    if (is_clock(reg) && !held(c)) return clock_reg(c, reg, clock_secs(c, now_ns));
    if (reg == CMOS_C) {
        vcmos_update(c, now_ns);
        uint8_t v = c->ram[CMOS_C];
        c->ram[CMOS_C] = 0;
        return v;
    }
    return c->ram[reg];
}

/* SET went up: the clock registers become bytes holding the time of now. */
static void freeze(struct vcmos *c, uint64_t now_ns)
{
    uint64_t secs = clock_secs(c, now_ns);
    static const uint8_t regs[] = { CMOS_SEC, CMOS_MIN, CMOS_HOUR, CMOS_WDAY, CMOS_DAY, CMOS_MON, CMOS_YEAR,
                                    CMOS_CENTURY };
    for (unsigned i = 0; i < sizeof regs; i++) c->ram[regs[i]] = clock_reg(c, regs[i], secs);
}

/* SET went down: the clock runs on from the date the registers hold. A date that is not one
 * (a month 13, an hour 25, before 1970) leaves the clock as it was. */
static void release(struct vcmos *c, uint64_t now_ns)
{
    struct rtc_time t;
    unsigned year = from_guest(c, c->ram[CMOS_CENTURY]) * 100 + from_guest(c, c->ram[CMOS_YEAR]);
    unsigned mon = from_guest(c, c->ram[CMOS_MON]), day = from_guest(c, c->ram[CMOS_DAY]);
    unsigned hour = hour_from_guest(c, c->ram[CMOS_HOUR]), min = from_guest(c, c->ram[CMOS_MIN]);
    unsigned sec = from_guest(c, c->ram[CMOS_SEC]);
    if (year < 1970 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 59)
        return;
    t.year = (uint16_t)year; t.month = (uint8_t)mon; t.day = (uint8_t)day;
    t.hour = (uint8_t)hour; t.minute = (uint8_t)min; t.second = (uint8_t)sec;
    uint64_t running = c->epoch_at_boot + now_ns / 1000000000u;
    c->adjust = (int64_t)rtc_to_epoch(&t) - (int64_t)running;
    set_wday(c, from_guest(c, c->ram[CMOS_WDAY]), clock_secs(c, now_ns));
}

/* A clock register written while the clock runs: its offset moves so that this field reads
 * back what was written (the weekday: its counter). */
static void set_field(struct vcmos *c, uint8_t reg, uint8_t v, uint64_t now_ns)
{
    struct rtc_time t;
    uint64_t secs = clock_secs(c, now_ns);
    if (reg == CMOS_WDAY) { set_wday(c, from_guest(c, v), secs); return; }
    unsigned wday = (unsigned)((secs / 86400 + 4 + c->wday_shift) % 7) + 1;
    rtc_from_epoch(secs, &t);
    unsigned x = reg == CMOS_HOUR ? hour_from_guest(c, v) : from_guest(c, v);
    switch (reg) {
    case CMOS_SEC: t.second = (uint8_t)x; break;
    case CMOS_MIN: t.minute = (uint8_t)x; break;
    case CMOS_HOUR: t.hour = (uint8_t)x; break;
    case CMOS_DAY: t.day = (uint8_t)x; break;
    case CMOS_MON: t.month = (uint8_t)x; break;
    default: t.year = (uint16_t)(t.year / 100 * 100 + x); break;
    }
    c->adjust += (int64_t)rtc_to_epoch(&t) - (int64_t)secs;
    set_wday(c, wday, clock_secs(c, now_ns));
}

/* Register B: SET freezes the clock (and clears UIE, as the MC146818 does), its release
 * starts it again. */
static void write_b(struct vcmos *c, uint8_t v, uint64_t now_ns)
{
    bool was = held(c);
    if ((v & CMOS_B_SET) && !was) freeze(c, now_ns);
    if (!(v & CMOS_B_SET) && was) { release(c, now_ns); c->last_sec = now_ns / 1000000000u; }
    if (v & CMOS_B_SET) v &= (uint8_t)~CMOS_B_UIE;
    c->ram[CMOS_B] = v;
}

void vcmos_write(struct vcmos *c, uint16_t port, uint8_t v, uint64_t now_ns)
{
    if (port == VCMOS_INDEX) { c->index = v; return; }
    uint8_t reg = c->index & 0x7f;
    if (reg == CMOS_C || reg == CMOS_D) return;                 /* read-only */
    if (reg == CMOS_A) {                                        /* UIP is read-only */
        c->ram[CMOS_A] = v & 0x7f;
        c->pf_tick = rate_ticks(c, now_ns);
        return;
    }
    if (reg == CMOS_B) { write_b(c, v, now_ns); return; }
    if (is_clock(reg) && !held(c)) {
        if (reg != CMOS_CENTURY) set_field(c, reg, v, now_ns);
        return;
    }
    c->ram[reg] = v;
}

/* The virtual 8254 PIT. Counts are computed from elapsed time, never ticked: a channel
 * remembers when it started and its reload value, and everything a guest reads (count,
 * output, status) follows from the time of the read. */
#include "supervisor/dev/vpit.h"
#include "lib/string.h"

void vpit_init(struct vpit *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 3; i++) {
        p->ch[i].access = 3;
        p->ch[i].reload = 0x10000;
        p->ch[i].gate = i != 2;
    }
}

/* Input clock ticks elapsed for channel ch at time now. */
static uint64_t elapsed(const struct vpit_channel *ch, uint64_t now)
{
    if (!ch->counting || now < ch->start_ns) return 0;
    uint64_t ns = now - ch->start_ns;
    /* ns * 1193182 / 1e9 without overflow for ~2^64 / 2^21 ns. */
    return (ns / 1000000000u) * VPIT_HZ + (ns % 1000000000u) * VPIT_HZ / 1000000000u;
}

/* Rate modes (2 and 3) repeat; the others count down once and then wrap through 65536. */
static bool periodic(const struct vpit_channel *ch) { return ch->mode == 2 || ch->mode == 3; }

uint16_t vpit_count(const struct vpit *p, unsigned c, uint64_t now)
{
    const struct vpit_channel *ch = &p->ch[c];
    if (!ch->counting) return (uint16_t)ch->reload;
    uint64_t t = elapsed(ch, now);
    uint32_t n = ch->reload;
    if (ch->mode == 3) {
        /* Square wave: counts down by two each half period. */
        uint64_t half = n / 2 ? n / 2 : 1;
        return (uint16_t)(n - 2 * (t % half));
    }
    if (periodic(ch)) return (uint16_t)(n - t % n);
    return (uint16_t)(n - t);            /* wraps modulo 65536 past terminal count */
}

bool vpit_out(const struct vpit *p, unsigned c, uint64_t now)
{
    const struct vpit_channel *ch = &p->ch[c];
    if (!ch->counting) return ch->mode != 0;
    uint64_t t = elapsed(ch, now);
    uint32_t n = ch->reload;
    switch (ch->mode) {
    case 0: case 1: return t >= n;                 /* high from terminal count on */
    case 2: return t % n != n - 1;                 /* low for one clock per period */
    case 3: return t % n < (n + 1) / 2;            /* high for the first half */
    default: return t != n;                        /* 4, 5: a one-clock low pulse */
    }
}

/* Rising edges of channel 0's output from the start of counting up to time now. */
static uint64_t edges_until(const struct vpit_channel *ch, uint64_t now)
{
    if (!ch->counting) return 0;
    uint64_t t = elapsed(ch, now);
    uint32_t n = ch->reload;
    switch (ch->mode) {
    case 0: case 1: return t >= n ? 1 : 0;
    case 2: return t / n;
    case 3: return (t + n / 2) / n;        /* rises at the start of each period after the first */
    default: return t > n ? 1 : 0;
    }
}

uint64_t vpit_irq0_edges(struct vpit *p, uint64_t now)
{
    struct vpit_channel *ch = &p->ch[0];
    uint64_t e = edges_until(ch, now);
    uint64_t fresh = e > ch->edges_seen ? e - ch->edges_seen : 0;
    ch->edges_seen = e;
    return fresh;
}

uint64_t vpit_next_edge(const struct vpit *p, uint64_t now)
{
    const struct vpit_channel *ch = &p->ch[0];
    if (!ch->counting || ch->mode == 4 || ch->mode == 5) return UINT64_MAX;
    uint64_t t = elapsed(ch, now), n = ch->reload, next;
    if (ch->mode == 0 || ch->mode == 1) {
        if (t >= n) return UINT64_MAX;
        next = n;
    } else {
        next = (t / n + 1) * n;
    }
    return ch->start_ns + next * 1000000000u / VPIT_HZ + 1;
}

/* Load a new count into channel ch: counting restarts now when the gate allows it. */
static void load(struct vpit_channel *ch, uint32_t count, uint64_t now)
{
    ch->reload = count ? count : 0x10000;
    if (ch->mode == 2 || ch->mode == 3) { if (ch->reload < 2) ch->reload = 2; }
    ch->counting = ch->gate;
    ch->start_ns = now;
    ch->edges_seen = 0;
    ch->null_count = false;
    ch->loaded_ns = now;
}

/* The status byte's null count: a control word without a count since, or a count written
 * less than one input clock (838 ns) ago, not yet in the counting element. */
static bool null_count(const struct vpit_channel *ch, uint64_t now)
{
    return ch->null_count || (now >= ch->loaded_ns && now - ch->loaded_ns < 1000000000u / VPIT_HZ);
}

/* The control word at 0x43: mode set, counter latch, or read-back. */
static void control(struct vpit *p, uint8_t v, uint64_t now)
{
    unsigned sel = v >> 6;
    if (sel == 3) {                          /* read-back: bits 1-3 select, 4 = no status, 5 = no count */
        for (unsigned c = 0; c < 3; c++) {
            if (!(v & (2u << c))) continue;
            struct vpit_channel *ch = &p->ch[c];
            if (!(v & 0x20) && !ch->latched) {
                ch->latched = true; ch->latch = vpit_count(p, c, now); ch->latch_msb_next = false;
            }
            if (!(v & 0x10) && !ch->status_latched) {
                ch->status_latched = true;
                ch->status = (uint8_t)((vpit_out(p, c, now) ? 0x80 : 0) | (null_count(ch, now) ? 0x40 : 0) |
                                       ch->access << 4 | ch->mode_bits << 1 | (ch->bcd ? 1 : 0));
            }
        }
        return;
    }
    struct vpit_channel *ch = &p->ch[sel];
    unsigned access = (v >> 4) & 3;
    if (access == 0) {                       /* counter latch */
        if (!ch->latched) { ch->latched = true; ch->latch = vpit_count(p, sel, now); ch->latch_msb_next = false; }
        return;
    }
    ch->access = (uint8_t)access;
    ch->mode = ch->mode_bits = (v >> 1) & 7;
    if (ch->mode > 5) ch->mode -= 4;         /* 6 and 7 are aliases of 2 and 3 */
    ch->bcd = v & 1;
    ch->counting = false;
    ch->write_msb = false;
    ch->read_msb = false;
    ch->latched = false;
    ch->null_count = true;
    ch->edges_seen = 0;
}

uint8_t vpit_read(struct vpit *p, uint16_t port, uint64_t now)
{
    if (port == VPIT_PORTB) {
        /* Bit 4 toggles with the DRAM refresh (every 15.085 us); bit 5 is channel 2's output. */
        uint8_t refresh = ((now / 15085) & 1) ? 0x10 : 0;
        return (uint8_t)((p->portb & 3) | refresh | (vpit_out(p, 2, now) ? 0x20 : 0));
    }
    if (port == VPIT_CTRL) return 0xff;
    struct vpit_channel *ch = &p->ch[port - VPIT_CH0];
    if (ch->status_latched) { ch->status_latched = false; return ch->status; }
    uint16_t v;
    if (ch->latched) {
        v = ch->latch;
        if (ch->access == 3 && !ch->latch_msb_next) { ch->latch_msb_next = true; return (uint8_t)v; }
        ch->latched = false;
        return (uint8_t)(ch->access == 1 ? v : v >> 8);
    }
    v = vpit_count(p, (unsigned)(port - VPIT_CH0), now);
    switch (ch->access) {
    case 1: return (uint8_t)v;
    case 2: return (uint8_t)(v >> 8);
    default:
        ch->read_msb = !ch->read_msb;
        return (uint8_t)(ch->read_msb ? v : v >> 8);
    }
}

void vpit_write(struct vpit *p, uint16_t port, uint8_t v, uint64_t now)
{
    if (port == VPIT_PORTB) {
        bool was = p->portb & 1;
        p->portb = v & 3;
        struct vpit_channel *ch = &p->ch[2];
        ch->gate = v & 1;
        /* A rising gate (re)starts channel 2's count; a low gate stops it. */
        if (ch->gate && !was && (ch->counting || !ch->null_count)) { ch->counting = true; ch->start_ns = now; }
        else if (!ch->gate && ch->mode != 0) ch->counting = false;
        return;
    }
    if (port == VPIT_CTRL) { control(p, v, now); return; }
    struct vpit_channel *ch = &p->ch[port - VPIT_CH0];
    switch (ch->access) {
    case 1: load(ch, v, now); break;
    case 2: load(ch, (uint32_t)v << 8, now); break;
    default:
        if (!ch->write_msb) { ch->write_lsb = v; ch->write_msb = true; }
        else { ch->write_msb = false; load(ch, ch->write_lsb | (uint32_t)v << 8, now); }
        break;
    }
}

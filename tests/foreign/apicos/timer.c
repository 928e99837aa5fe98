/* apicos: the local APIC timer. Its rate is measured against PIT channel 2 the way Linux
 * measures clocks (a 50 ms gate), then used one-shot and periodic, masked, under the TPR and
 * with every divide configuration. Only coarse facts are printed: rates differ between
 * machines and a loaded host stretches any measurement. */
#include "hw.h"

#define V_ONESHOT 0x40
#define V_PERIODIC 0x41
#define LVT_MASK (1u << 16)
#define LVT_PERIODIC (1u << 17)

static volatile uint32_t oneshot_hits, periodic_hits;
static volatile uint32_t cur_in_handler;

static void on_oneshot(struct frame *f) { (void)f; oneshot_hits++; cur_in_handler = lapic_rd(L_TCUR); lapic_eoi(); }
static void on_periodic(struct frame *f) { (void)f; periodic_hits++; lapic_eoi(); }

/* The DCR encodings in divisor order 1, 2, 4, ... 128. */
static const uint8_t dcr_of[8] = { 0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa };

/* Timer ticks counted while PIT channel 2 counts `latch` (masked timer, count from ~0). A
 * host that takes the CPU away at the wrong moment stretches or shortens one measurement,
 * so each is made five times and the median kept. */
static uint32_t ticks_once(uint8_t dcr, uint16_t latch)
{
    lapic_wr(L_LVTT, LVT_MASK | V_ONESHOT);
    lapic_wr(L_TDCR, dcr);
    lapic_wr(L_TINIT, 0xffffffffu);
    pit2_start(latch);
    uint32_t t0 = lapic_rd(L_TCUR);
    while (!pit2_done()) {}
    uint32_t t1 = lapic_rd(L_TCUR);
    lapic_wr(L_TINIT, 0);
    return t0 - t1;
}

static uint32_t ticks_during(uint8_t dcr, uint16_t latch)
{
    uint32_t t[5];
    for (unsigned i = 0; i < 5; i++) {
        uint32_t v = ticks_once(dcr, latch);
        unsigned j = i;
        while (j > 0 && t[j - 1] > v) { t[j] = t[j - 1]; j--; }
        t[j] = v;
    }
    return t[2];
}

static uint32_t per_ms;           /* timer ticks per millisecond at divide by 1 */
uint32_t timer_per_ms;

static void calibrate(void)
{
    /* 20 ms of the PIT: 23864 counts at 1.193182 MHz. Divide by 16, as Linux uses. */
    uint32_t t = ticks_during(0x3, 23864);
    uint32_t mhz = t / 20000u * 16u;         /* ticks per microsecond before the divider */
    per_ms = t / 20u * 16u;
    kprintf("timer: calibrated against the PIT: %s\n",
            mhz >= 500 && mhz <= 2000 ? "between 500 MHz and 2 GHz" : "outside 500 MHz - 2 GHz");
    if (!(mhz >= 500 && mhz <= 2000)) kprintf("timer: (measured %u MHz)\n", mhz);
    expect(mhz >= 500 && mhz <= 2000, "the timer's rate against the PIT");
    if (per_ms == 0) per_ms = 1000000;
    timer_per_ms = per_ms;
}

/* Each divide configuration against divide by 1: the nearest power of two of the ratio. A
 * busy host can stretch one 10 ms window (the vCPU stopped when the PIT ran out, or between
 * the PIT's end and the read of the count), so each ratio is taken nine times, each against a
 * divide-by-1 window just before it, and the median ratio decides (four may be off). */
static unsigned ratio_pow2(uint32_t base, uint32_t t)
{
    for (unsigned k = 0; k < 8; k++) {
        uint64_t lo = (uint64_t)t * (1u << k) * 7 / 10, hi = (uint64_t)t * (1u << k) * 14 / 10;
        if (base >= lo && base <= hi) return 1u << k;
    }
    return 0;
}

static void divisors(void)
{
    kprintf("timer: divisors:");
    for (unsigned i = 0; i < 8; i++) {
        unsigned r[9];
        for (unsigned n = 0; n < 9; n++) {
            uint32_t base = ticks_once(dcr_of[0], 11932), t = ticks_once(dcr_of[i], 11932);
            unsigned v = ratio_pow2(base, t), j = n;
            while (j > 0 && r[j - 1] > v) { r[j] = r[j - 1]; j--; }
            r[j] = v;
        }
        kprintf(" %x:%u", dcr_of[i], r[4]);
        if (r[4] != 1u << i)
            kprintf(" (FAIL: ratios %u %u %u %u %u %u %u %u %u)", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]);
        expect(r[4] == 1u << i, "the divide configuration's ratio");
    }
    kprintf("\n");
    lapic_wr(L_TDCR, 0xb);
    kprintf("timer: DCR reads %x\n", lapic_rd(L_TDCR));
}

static void one_shot(void)
{
    oneshot_hits = 0;
    lapic_wr(L_TDCR, 0xb);
    lapic_wr(L_LVTT, V_ONESHOT);                           /* one-shot, open */
    lapic_wr(L_TINIT, per_ms * 100);                       /* 100 ms */
    uint32_t c0 = lapic_rd(L_TCUR), c1 = lapic_rd(L_TCUR);
    kprintf("timer: one-shot counting down: %s\n", c0 > 0 && c1 <= c0 && c0 <= per_ms * 100 ? "yes" : "no");
    halt_until(&oneshot_hits, 1);
    kprintf("timer: one-shot fired %u, count in the handler %u, count now %u, init %s\n", oneshot_hits,
            cur_in_handler, lapic_rd(L_TCUR), lapic_rd(L_TINIT) == per_ms * 100 ? "kept" : "changed");
    pit_delay_us(150000);
    kprintf("timer: 150 ms later: fired %u, requested %u\n", oneshot_hits, lapic_bit(L_IRR, V_ONESHOT));

    /* Short one-shots waited for with HLT, each re-armed from the handler's side. */
    for (unsigned i = 0; i < 5; i++) {
        lapic_wr(L_TINIT, per_ms / 2);
        halt_until(&oneshot_hits, 2 + i);
    }
    kprintf("timer: five 0.5 ms one-shots with HLT: fired %u\n", oneshot_hits);

    /* Masked: the count runs out, nothing is requested, and unmasking later brings nothing. */
    lapic_wr(L_LVTT, LVT_MASK | V_ONESHOT);
    lapic_wr(L_TINIT, per_ms);
    pit_delay_us(5000);
    uint32_t irr = lapic_bit(L_IRR, V_ONESHOT), cur = lapic_rd(L_TCUR);
    lapic_wr(L_LVTT, V_ONESHOT);
    irq_window();
    kprintf("timer: masked one-shot: count %u, requested %u, fired %u after unmasking\n", cur, irr, oneshot_hits);

    /* Initial count 0 stops the timer. */
    lapic_wr(L_TINIT, per_ms * 50);
    lapic_wr(L_TINIT, 0);
    pit_delay_us(60000);
    irq_window();
    kprintf("timer: stopped by a zero count: count %u, fired %u\n", lapic_rd(L_TCUR), oneshot_hits);
}

static void periodic(void)
{
    periodic_hits = 0;
    lapic_wr(L_TDCR, 0x3);                                /* divide by 16 */
    lapic_wr(L_LVTT, LVT_PERIODIC | V_PERIODIC);
    lapic_wr(L_TINIT, per_ms / 16);                       /* 1 ms */
    halt_until(&periodic_hits, 20);
    uint32_t cur = lapic_rd(L_TCUR);
    kprintf("timer: periodic: LVT %x, 20 interrupts taken with HLT, count reloads: %s\n",
            lapic_rd(L_LVTT), cur > 0 && cur <= per_ms / 16 ? "yes" : "no");

    /* The TPR holds the timer's class back; the expirations meanwhile are one request. */
    lapic_wr(L_TPR, 0x40);
    uint32_t before = periodic_hits;
    sti();
    pit_delay_us(10000);
    cli();
    uint32_t held = periodic_hits - before, req = lapic_bit(L_IRR, V_PERIODIC);
    lapic_wr(L_LVTT, LVT_MASK | LVT_PERIODIC | V_PERIODIC);
    lapic_wr(L_TPR, 0);
    before = periodic_hits;
    irq_window();
    kprintf("timer: TPR 40: taken %u, requested %u, then taken %u\n", held, req, periodic_hits - before);

    /* Masked periodic: no more. Switching to one-shot mid-count keeps the count going. */
    before = periodic_hits;
    sti();
    pit_delay_us(10000);
    cli();
    kprintf("timer: masked periodic: taken %u more\n", periodic_hits - before);
    lapic_wr(L_TINIT, 0);
    kprintf("timer: stopped: count %u\n", lapic_rd(L_TCUR));

    /* A long period read twice: it counts down between the reads. */
    lapic_wr(L_TDCR, 0xb);
    lapic_wr(L_TINIT, per_ms * 1000);
    uint32_t a = lapic_rd(L_TCUR);
    pit_delay_us(2000);
    uint32_t b = lapic_rd(L_TCUR);
    lapic_wr(L_TINIT, 0);
    kprintf("timer: 2 ms apart the count went down: %s\n", b < a ? "yes" : "no");
}

void timer_tests(void)
{
    set_handler(V_ONESHOT, on_oneshot);
    set_handler(V_PERIODIC, on_periodic);
    calibrate();
    divisors();
    one_shot();
    periodic();
}

/* The 8259A pair: initialisation words (remapped to 0x30/0x38), the masks read back, IRR and
 * ISR through OCW3, the PIT's IRQ0 in service in its handler, non-specific and specific EOI,
 * a request held in IRR while masked, poll mode, auto-EOI, rotated priority, the cascade (the RTC's periodic
 * interrupt on IRQ8 through IR2), and the ELCR's writable bits. Every timer check counts
 * events and masks; nothing depends on speed. */
#include "tests/guests/lib/guest.h"

#define M_CMD 0x20
#define M_DATA 0x21
#define S_CMD 0xa0
#define S_DATA 0xa1
#define MBASE 0x30
#define SBASE 0x38

/* ICW1-4 on both chips; icw4m is the master's ICW4 (1: 8086 mode, 3: with auto-EOI). */
static void init_pair(uint8_t icw4m)
{
    outb(M_CMD, 0x11); outb(S_CMD, 0x11);
    outb(M_DATA, MBASE); outb(S_DATA, SBASE);
    outb(M_DATA, 0x04); outb(S_DATA, 0x02);
    outb(M_DATA, icw4m); outb(S_DATA, 0x01);
}

static uint8_t irr(uint16_t cmd) { outb(cmd, 0x0a); return inb(cmd); }
static uint8_t isr(uint16_t cmd) { outb(cmd, 0x0b); return inb(cmd); }

/* Wait (bounded) until IRQ0 is requested in the master's IRR; true if it came. */
static bool wait_irr0(void)
{
    for (long i = 0; i < 5000000; i++)
        if (irr(M_CMD) & 1) return true;
    return false;
}

/* Enable interrupts until *count reaches want, bounded by a number of rounds. */
static void run_until(volatile uint32_t *count, uint32_t want)
{
    for (long i = 0; i < 2000000 && *count < want; i++) __asm__ volatile("sti; nop; nop; cli");
}

static void init_words(void)
{
    init_pair(0x01);
    check_eq(inb(M_DATA), 0x00, "ICW1 cleared the master's mask");
    check_eq(inb(S_DATA), 0x00, "ICW1 cleared the slave's mask");
    outb(M_DATA, 0xff); outb(S_DATA, 0xff);
    outb(M_DATA, 0x5a);
    outb(S_DATA, 0xa5);
    check_eq(inb(M_DATA), 0x5a, "master IMR reads back");
    check_eq(inb(S_DATA), 0xa5, "slave IMR reads back");
    pic_mask(0xffff);
    check_eq(isr(M_CMD), 0, "master ISR empty");
    check_eq(isr(S_CMD), 0, "slave ISR empty");
    check_eq(inb(M_CMD), 0, "OCW3 choice sticks: the next command-port read is ISR again");
    outb(M_CMD, 0x0a);
    inb(M_CMD);
    outb(M_CMD, 0x08);               /* OCW3 with RR clear: keeps reading IRR */
    check_eq(inb(M_CMD) & 0xfe, 0, "IRR again after an OCW3 without RR: nothing but IRQ0 requested");
}

/* ---- IRQ0 in service, EOI forms ---- */
static volatile uint32_t ticks, eoi_mode;
static volatile uint8_t isr_in[4], isr_after[4], isr_wrong_eoi;

static void on_tick(struct gframe *f)
{
    (void)f;
    unsigned n = ticks;
    pic_mask(0xffff);
    if (n < 4) isr_in[n] = isr(M_CMD);
    if (eoi_mode == 0) {
        outb(M_CMD, 0x20);            /* non-specific */
    } else if (eoi_mode == 1) {
        outb(M_CMD, 0x61);            /* specific EOI of IR1, not in service */
        isr_wrong_eoi = isr(M_CMD);
        outb(M_CMD, 0x60);            /* specific EOI of IR0 */
    }                                 /* eoi_mode 2: auto-EOI, nothing to send */
    if (n < 4) isr_after[n] = isr(M_CMD);
    ticks = n + 1;
}

static void eoi_forms(void)
{
    set_handler(MBASE, on_tick, 0, false);
    pit_periodic(1000);
    /* Non-specific EOI. */
    eoi_mode = 0;
    pic_mask(0xfffe);
    run_until(&ticks, 1);
    check_eq(ticks, 1, "IRQ0 delivered at vector 0x30");
    check_eq(isr_in[0], 0x01, "IRQ0 in service in its handler");
    check_eq(isr_after[0], 0x00, "non-specific EOI cleared it");
    /* Masked: the request waits in IRR, and is delivered once unmasked. */
    check(wait_irr0(), "masked IRQ0 held in IRR");
    for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
    check_eq(ticks, 1, "and not delivered while masked");
    /* Specific EOI. */
    eoi_mode = 1;
    pic_mask(0xfffe);
    run_until(&ticks, 2);
    check_eq(ticks, 2, "the held request delivered once unmasked");
    check_eq(isr_in[1], 0x01, "IRQ0 in service again");
    check_eq(isr_wrong_eoi, 0x01, "a specific EOI of IR1 leaves IR0 in service");
    check_eq(isr_after[1], 0x00, "the specific EOI of IR0 clears it");
    /* No EOI at all: the next request waits behind the one in service. */
    eoi_mode = 3;
    pic_mask(0xfffe);
    run_until(&ticks, 3);
    check_eq(isr_after[2], 0x01, "without an EOI IRQ0 stays in service");
    pic_mask(0xfffe);
    check(wait_irr0(), "the next request waits in IRR");
    for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
    check_eq(ticks, 3, "and is not delivered while IR0 is in service");
    pic_mask(0xffff);
    outb(M_CMD, 0x20);
    check_eq(isr(M_CMD), 0, "a late non-specific EOI clears it");
}

/* ---- poll ---- */
static void poll_mode(void)
{
    pic_mask(0xffff);
    outb(M_CMD, 0x0c);
    check_eq(inb(M_CMD), 0x00, "poll with every line masked: no request");
    check(wait_irr0(), "IRQ0 requested again");
    pic_mask(0xfffe);                  /* unmasked, but interrupts stay off */
    outb(M_CMD, 0x0c);
    uint8_t p = inb(M_CMD);
    uint8_t s = isr(M_CMD);
    pic_mask(0xffff);
    check_eq(p, 0x80, "poll: a request, IR0");
    check_eq(s, 0x01, "the poll read put IR0 in service");
    outb(M_CMD, 0x20);
    check_eq(isr(M_CMD), 0, "EOI after the poll");
}

/* ---- auto-EOI ---- */
static void auto_eoi(void)
{
    init_pair(0x03);
    pic_mask(0xffff);
    eoi_mode = 2;
    pic_mask(0xfffe);
    run_until(&ticks, 4);
    check_eq(ticks, 4, "IRQ0 delivered in auto-EOI mode");
    check_eq(isr_in[3], 0x00, "auto-EOI: nothing in service in the handler");
    init_pair(0x01);
    pic_mask(0xffff);
    outb(0x43, 0x30);                 /* channel 0 to mode 0, waiting for a count: quiet */
}

/* ---- the cascade: the RTC's periodic interrupt on IRQ8 ---- */
static volatile uint32_t rtc_irqs, rtc_late;
static volatile uint8_t s_isr, m_isr, s_isr_after;

static uint8_t cmos_rd(uint8_t r) { outb(0x70, r); return inb(0x71); }
static void cmos_wr(uint8_t r, uint8_t v) { outb(0x70, r); outb(0x71, v); }

static void on_rtc(struct gframe *f)
{
    (void)f;
    if (rtc_irqs >= 4) {             /* flagged between the read of C and clearing PIE */
        rtc_late++;
        cmos_rd(0x0c);
        outb(S_CMD, 0x20); outb(M_CMD, 0x20);
        return;
    }
    if (rtc_irqs == 0) { s_isr = isr(S_CMD); m_isr = isr(M_CMD); }
    cmos_rd(0x0c);
    if (++rtc_irqs == 4) cmos_wr(0x0b, cmos_rd(0x0b) & ~0x40);
    outb(S_CMD, 0x20);
    if (rtc_irqs == 1) s_isr_after = isr(S_CMD);
    outb(M_CMD, 0x20);
}

static void cascade(void)
{
    set_handler(SBASE, on_rtc, 0, false);
    uint8_t a = cmos_rd(0x0a), b = cmos_rd(0x0b);
    cmos_wr(0x0a, (a & 0xf0) | 0x06);  /* 1024 Hz */
    cmos_rd(0x0c);
    pic_mask((uint16_t)~0x0104 & 0xffff);
    cmos_wr(0x0b, b | 0x40);
    run_until(&rtc_irqs, 4);
    for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
    pic_mask(0xffff);
    cmos_wr(0x0b, b & ~0x40);
    cmos_wr(0x0a, a);
    cmos_rd(0x0c);
    check_eq(rtc_irqs, 4, "IRQ8 through the cascade: four, then the RTC stopped");
    check(rtc_late <= 1, "none once PIE is clear");
    check_eq(s_isr, 0x01, "slave ISR: IR0 (IRQ8) in service");
    check_eq(m_isr, 0x04, "master ISR: IR2, the cascade, in service");
    check_eq(s_isr_after, 0x00, "slave EOI cleared the slave's ISR");
    check_eq(isr(M_CMD) | isr(S_CMD), 0, "nothing left in service");
}

/* ---- priority: IR0 and IR2 both requested, read by polling ---- */
static void priority(void)
{
    pic_mask(0xffff);
    pit_periodic(1000);
    uint8_t a = cmos_rd(0x0a), b = cmos_rd(0x0b);
    cmos_wr(0x0a, (a & 0xf0) | 0x06);
    cmos_rd(0x0c);
    cmos_wr(0x0b, b | 0x40);
    outb(S_DATA, 0xfe);                /* the slave passes IRQ8 on to the master's IR2 */
    bool both = false;
    for (long i = 0; i < 5000000 && !both; i++) both = (irr(M_CMD) & 0x05) == 0x05;
    outb(M_DATA, 0xfa);                /* IR0 and IR2 open, interrupts off */
    outb(M_CMD, 0x0c);
    uint8_t first = inb(M_CMD);
    outb(M_CMD, 0x60);
    outb(M_CMD, 0xc1);                 /* set priority: IR1 lowest, so IR2 highest */
    outb(M_CMD, 0x0c);
    uint8_t rotated = inb(M_CMD);
    outb(M_CMD, 0x62);
    outb(M_DATA, 0xfe);
    check(wait_irr0(), "IRQ0 requested once more");
    outb(M_CMD, 0x0c);
    uint8_t last = inb(M_CMD);
    outb(M_CMD, 0x60);
    outb(M_CMD, 0xc7);                 /* back to IR7 lowest */
    cmos_wr(0x0b, b & ~0x40);
    cmos_wr(0x0a, a);
    cmos_rd(0x0c);
    init_pair(0x01);                   /* ICW1 clears what is still requested */
    pic_mask(0xffff);
    check(both, "IR0 (PIT) and IR2 (the slave's IRQ8) requested together");
    check_eq(first, 0x80, "fixed priority: IR0 first");
    check_eq(rotated, 0x82, "after set priority (IR1 lowest): IR2 before IR0");
    check_eq(last, 0x80, "then IR0");
    check_eq(isr(M_CMD) | isr(S_CMD), 0, "nothing in service");
}

/* ---- ELCR: which lines may be level-triggered ---- */
static void elcr(void)
{
    uint8_t e0 = inb(0x4d0), e1 = inb(0x4d1);
    outb(0x4d0, 0xff); outb(0x4d1, 0xff);
    uint8_t w0 = inb(0x4d0), w1 = inb(0x4d1);
    outb(0x4d0, 0x00); outb(0x4d1, 0x00);
    uint8_t z0 = inb(0x4d0), z1 = inb(0x4d1);
    outb(0x4d0, e0); outb(0x4d1, e1);
    check_eq(w0, 0xf8, "ELCR1 (0x4d0): IRQ0-2 always edge");
    check_eq(w1, 0xde, "ELCR2 (0x4d1): IRQ8 and IRQ13 always edge");
    check_eq(z0 | z1, 0, "ELCR cleared");
    check_eq(inb(0x4d0), e0 & 0xf8, "ELCR1 restored");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    init_words();
    eoi_forms();
    poll_mode();
    auto_eoi();
    cascade();
    priority();
    elcr();
    return summary("pic");
}

/* apicos: the I/O APIC. The PIT (ISA IRQ0, through the pin the tables name) and COM1 (IRQ4)
 * are routed through redirection entries: edge and level, masks, destinations, remote IRR
 * and both ways of ending a level interrupt (the local APIC's EOI and the I/O APIC's own
 * EOI register). Then the 8259 through LINT0 in ExtINT mode, beside the I/O APIC. */
#include "hw.h"

#define V_PIT 0x30
#define V_PIN0 0x3f
#define V_COM 0x34
#define V_COM_HI 0x84
#define RED_MASK (1u << 16)
#define RED_LEVEL (1u << 15)
#define RED_RIRR (1u << 14)
#define RED_LOGICAL (1u << 11)

static uint8_t pit_pin, com_pin;

static void red_set(uint8_t pin, uint32_t lo, uint8_t dest)
{
    ioapic_wr((uint8_t)(0x10 + 2 * pin), RED_MASK);       /* masked while it changes */
    ioapic_wr((uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
    ioapic_wr((uint8_t)(0x10 + 2 * pin), lo);
}
static uint32_t red_lo(uint8_t pin) { return ioapic_rd((uint8_t)(0x10 + 2 * pin)); }

/* PIT channel 0 in mode 0: its output rises once, `us` from now. */
static void pit0_oneshot(uint32_t us)
{
    uint32_t count = us * 1193u / 1000u;
    outb(0x43, 0x30);
    outb(0x40, (uint8_t)count);
    outb(0x40, (uint8_t)(count >> 8));
}
static bool pit0_out(void)
{
    outb(0x43, 0xe2);                                      /* read-back: status of channel 0 */
    return inb(0x40) & 0x80;
}
/* Wait, interrupts off, until everything the PIT did up to `us` from when it was programmed
 * has reached the interrupt controllers. Its output bit says when the count ran out, but the
 * edge may reach the controllers a little later; the local APIC timer, armed to run out after
 * it and polled in the IRR, is the fence (its vector is never logged, see console.c). */
static void pit0_settle(uint32_t us)
{
    expect(!lapic_bit(L_IRR, V_FENCE), "no fence left over");
    lapic_wr(L_LVTT, 0x10000 | V_FENCE);
    lapic_wr(L_TDCR, 0xb);
    lapic_wr(L_LVTT, V_FENCE);
    lapic_wr(L_TINIT, (uint32_t)((uint64_t)timer_per_ms * (us + 3000) / 1000));
    while (!lapic_bit(L_IRR, V_FENCE)) {}
    lapic_wr(L_LVTT, 0x10000 | V_FENCE);
    expect(pit0_out(), "the PIT's count ran out before the fence");
}
static void pit0_quiet(void)
{
    outb(0x43, 0x30);                                      /* mode 0 with a long count: out low */
    outb(0x40, 0xff);
    outb(0x40, 0xff);
}

static volatile uint32_t pit_hits, pin0_hits;
static void on_pit(struct frame *f) { (void)f; pit_hits++; lapic_eoi(); }
static void on_pin0(struct frame *f) { (void)f; pin0_hits++; lapic_eoi(); }

static void registers(void)
{
    uint32_t id = ioapic_rd(0), ver = ioapic_rd(1), arb = ioapic_rd(2);
    kprintf("ioapic: ID %u, version %02x, %u pins, arbitration ID %u\n", (id >> 24) & 0xf, ver & 0xff,
            ((ver >> 16) & 0xff) + 1, (arb >> 24) & 0xf);
    unsigned masked = 0, pins = ((ver >> 16) & 0xff) + 1;
    for (unsigned p = 0; p < pins && p < 64; p++)
        if (red_lo((uint8_t)p) & RED_MASK) masked++;
    kprintf("ioapic: %u of %u entries masked as the BIOS left them\n", masked, pins);
    /* Every writable field of an entry reads back; remote IRR and delivery status do not. */
    ioapic_wr(0x10 + 2 * 10, 0x0001ffff);
    ioapic_wr(0x11 + 2 * 10, 0xff000000u);
    kprintf("ioapic: entry 10 written 1ffff/ff000000 reads %x/%x\n", red_lo(10), ioapic_rd(0x11 + 2 * 10));
    ioapic_wr(0x10 + 2 * 10, RED_MASK);
    ioapic_wr(0x11 + 2 * 10, 0);
    ioapic_wr(0, 0x05000000u);
    kprintf("ioapic: ID written 5 reads %u\n", (ioapic_rd(0) >> 24) & 0xf);
    ioapic_wr(0, id);
    ioapic_wr(1, 0);
    kprintf("ioapic: version after a write %x\n", ioapic_rd(1) & 0xff00ff);
}

static void pit_routes(void)
{
    set_handler(V_PIT, on_pit);
    set_handler(V_PIN0, on_pin0);
    pit_pin = plat.irq_pin[0];
    kprintf("ioapic: the PIT on pin %u\n", pit_pin);
    if (pit_pin != 0) red_set(0, V_PIN0, 0);               /* what reaches pin 0 besides? */

    /* 1 kHz rate generator, edge, fixed, physical destination: my ID. */
    red_set(pit_pin, V_PIT, 0);
    outb(0x43, 0x34);
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    halt_until(&pit_hits, 10);
    red_set(pit_pin, RED_MASK | V_PIT, 0);
    pit0_quiet();
    kprintf("ioapic: PIT at 1 kHz: 10 interrupts with HLT, entry %x, TMR %u\n", red_lo(pit_pin),
            lapic_bit(L_TMR, V_PIT));

    /* An edge that comes while the pin is masked is lost. */
    pit_hits = 0;
    pit0_oneshot(1000);
    pit0_settle(1000);
    red_set(pit_pin, V_PIT, 0);
    irq_window();
    kprintf("ioapic: edge while masked: taken %u after unmasking\n", pit_hits);
    pit0_oneshot(1000);
    halt_until(&pit_hits, 1);
    pit_delay_us(5000);
    irq_window();
    kprintf("ioapic: PIT one-shot: %u interrupt(s)\n", pit_hits);

    /* Destinations: which messages this CPU takes (LDR is 0x01000000, flat model). */
    static const struct { uint32_t lo; uint8_t dest; const char *what; } d[] = {
        { V_PIT | RED_LOGICAL, 0x01, "logical 01" },
        { V_PIT | RED_LOGICAL, 0x02, "logical 02" },
        { V_PIT | RED_LOGICAL, 0xff, "logical ff" },
        { V_PIT, 0x01, "physical 1" },
        { V_PIT, 0x0f, "physical 0f" },
        { V_PIT | RED_LOGICAL | (1u << 8), 0x01, "lowest priority logical 01" },
    };
    kprintf("ioapic: destinations:");
    for (unsigned i = 0; i < sizeof d / sizeof d[0]; i++) {
        pit_hits = 0;
        red_set(pit_pin, RED_MASK, 0);
        pit0_quiet();
        red_set(pit_pin, d[i].lo, d[i].dest);
        pit0_oneshot(500);
        pit0_settle(500);
        irq_window();
        kprintf(" %s:%u", d[i].what, pit_hits);
    }
    kprintf("\n");
    red_set(pit_pin, RED_MASK | V_PIT, 0);
    pit0_quiet();
    kprintf("ioapic: pin 0 took %u\n", pin0_hits);
}

/* ---- COM1 on its pin, level-triggered: its THR-empty interrupt stays up until IIR is
 * read, so remote IRR can be watched ---- */

static volatile uint32_t com_hits, com_clear_on, com_iir[4], com_rirr[4];
static void on_com(struct frame *f)
{
    (void)f;
    uint32_t n = com_hits++;
    if (n < 4) com_rirr[n] = (red_lo(com_pin) & RED_RIRR) ? 1 : 0;
    /* Leave the source up for the first com_clear_on - 1 interrupts: the EOI re-sends. */
    if (com_hits >= com_clear_on) { uint8_t iir = inb(0x3fa); if (n < 4) com_iir[n] = iir & 0x0f; }
    lapic_eoi();
}

static void com_irq(bool on)
{
    outb(0x3f9, on ? 0x02 : 0x00);                         /* IER: THR empty */
}

static void com_level(void)
{
    com_pin = plat.irq_pin[4];
    set_handler(V_COM, on_com);
    set_handler(V_COM_HI, on_com);
    com_irq(false);
    inb(0x3fa);
    kprintf("ioapic: COM1 on pin %u\n", com_pin);

    /* Level, unmasked: the line goes up, one message, remote IRR set until the EOI. */
    red_set(com_pin, RED_LEVEL | V_COM, 0);
    com_hits = 0;
    com_clear_on = 2;
    com_irq(true);
    uint32_t lo = red_lo(com_pin);
    kprintf("ioapic: level COM1 up: entry %x (remote IRR %u), IRR %u, TMR %u\n", lo, (lo >> 14) & 1,
            lapic_bit(L_IRR, V_COM), lapic_bit(L_TMR, V_COM));
    irq_window();
    kprintf("ioapic: taken %u: remote IRR in the handlers %u %u, IIR %x; entry now %x, TMR %u\n", com_hits,
            com_rirr[0], com_rirr[1], com_iir[1], red_lo(com_pin), lapic_bit(L_TMR, V_COM));

    /* Masked while the line goes up: a level is not lost; unmasking sends it. */
    com_irq(false);
    red_set(com_pin, RED_MASK | RED_LEVEL | V_COM, 0);
    com_hits = 0;
    com_clear_on = 1;
    com_irq(true);
    uint32_t req = lapic_bit(L_IRR, V_COM);
    red_set(com_pin, RED_LEVEL | V_COM, 0);
    uint32_t req2 = lapic_bit(L_IRR, V_COM);
    irq_window();
    kprintf("ioapic: level while masked: requested %u, after unmasking %u, taken %u\n", req, req2, com_hits);

    /* The I/O APIC's EOI register: remote IRR clears without the local APIC's EOI. */
    com_irq(false);
    com_hits = 0;
    com_irq(true);
    uint32_t r1 = (red_lo(com_pin) >> 14) & 1;
    inb(0x3fa);                                            /* the line goes down */
    uint32_t r2 = (red_lo(com_pin) >> 14) & 1;
    *(volatile uint32_t *)(ioapic_base + 0x40) = V_COM;
    uint32_t r3 = (red_lo(com_pin) >> 14) & 1;
    uint32_t still = lapic_bit(L_IRR, V_COM);
    irq_window();
    kprintf("ioapic: EOI register: remote IRR %u, after IIR read %u, after EOI %u; IRR %u, taken %u\n",
            r1, r2, r3, still, com_hits);

    /* Remote IRR holds a second message back: the line drops and rises again before the EOI. */
    com_irq(false);
    com_hits = 0;
    com_clear_on = 1;
    red_set(com_pin, RED_LEVEL | V_COM, 0);
    com_irq(true);
    lapic_wr(L_TPR, 0x30);                                 /* the vector's class waits */
    inb(0x3fa);
    com_irq(false);
    com_irq(true);                                         /* up again, remote IRR still set */
    uint32_t rirr = (red_lo(com_pin) >> 14) & 1;
    lapic_wr(L_TPR, 0);
    irq_window();
    kprintf("ioapic: a second rise under remote IRR: remote IRR %u, taken %u, entry now %x\n", rirr, com_hits,
            red_lo(com_pin));

    /* Switching the entry to edge clears remote IRR; an edge needs a new rise. */
    com_irq(false);
    inb(0x3fa);
    com_hits = 0;
    com_clear_on = 99;
    red_set(com_pin, RED_LEVEL | V_COM, 0);
    com_irq(true);
    uint32_t before = (red_lo(com_pin) >> 14) & 1;
    ioapic_wr((uint8_t)(0x10 + 2 * com_pin), RED_MASK | V_COM);
    uint32_t after = (red_lo(com_pin) >> 14) & 1;
    ioapic_wr((uint8_t)(0x10 + 2 * com_pin), V_COM);
    lapic_wr(L_TPR, 0);
    irq_window();
    kprintf("ioapic: level to edge: remote IRR %u then %u, taken %u (the edge came before)\n", before, after,
            com_hits);
    com_irq(false);
    inb(0x3fa);
    com_hits = 0;
    com_irq(true);
    irq_window();
    com_irq(false);
    inb(0x3fa);
    kprintf("ioapic: edge COM1: a new rise taken %u, TMR %u\n", com_hits, lapic_bit(L_TMR, V_COM));

    /* A high vector for the same pin: level again, ended by the local APIC's EOI. */
    com_hits = 0;
    com_clear_on = 1;
    red_set(com_pin, RED_LEVEL | V_COM_HI, 0);
    com_irq(true);
    irq_window();
    com_irq(false);
    kprintf("ioapic: vector %x: taken %u, TMR %u, entry %x\n", V_COM_HI, com_hits, lapic_bit(L_TMR, V_COM_HI),
            red_lo(com_pin));
    red_set(com_pin, RED_MASK | V_COM, 0);
    inb(0x3fa);
}

void ioapic_tests(void)
{
    registers();
    pit_routes();
    com_level();
}

/* ---- the 8259 through LINT0 (ExtINT), beside the I/O APIC ---- */

static volatile uint32_t pic_hits;
static void on_pic0(struct frame *f) { (void)f; pic_hits++; outb(0x20, 0x20); }

void extint_tests(void)
{
    set_handler(0x20, on_pic0);
    set_handler(V_PIT, on_pit);
    outb(0x21, 0xfe);                                      /* IRQ0 open at the 8259 */
    pic_hits = 0;
    pit0_oneshot(1000);
    pit0_settle(1000);
    irq_window();
    kprintf("extint: LINT0 masked: 8259 IRQ0 taken %u\n", pic_hits);
    lapic_wr(L_LINT0, 0x700);                              /* ExtINT, open: virtual wire */
    irq_window();
    kprintf("extint: LINT0 opened: taken %u (vector %x)\n", pic_hits, vlog[vlog_n ? (vlog_n - 1) & 63 : 0]);

    /* The TPR does not hold ExtINT back. */
    lapic_wr(L_TPR, 0xf0);
    pic_hits = 0;
    pit0_oneshot(1000);
    pit0_settle(1000);
    irq_window();
    lapic_wr(L_TPR, 0);
    kprintf("extint: under TPR f0: taken %u\n", pic_hits);
    irq_window();                                          /* the fence's vector */

    /* One PIT edge to both controllers: the local APIC's vector first, then the 8259's. */
    red_set(pit_pin, V_PIT, 0);
    pic_hits = 0;
    pit_hits = 0;
    vlog_reset();
    pit0_oneshot(1000);
    pit0_settle(1000);
    irq_window();
    vlog_print("extint: both");
    outb(0x20, 0x0b);
    kprintf("extint: after both: 8259 ISR %02x, APIC IRR %08x %08x, handled 30:%u 20:%u\n", inb(0x20),
            lapic_rd(L_IRR + 0x10), lapic_rd(L_IRR + 0x20), pit_hits, pic_hits);
    outb(0x20, 0x0a);
    red_set(pit_pin, RED_MASK | V_PIT, 0);
    pit0_quiet();
    outb(0x21, 0xff);
    lapic_wr(L_LINT0, 0x10700);
    kprintf("extint: ISR clear at the end: %s\n",
            (lapic_rd(L_ISR + 0x10) | lapic_rd(L_ISR + 0x20) | lapic_rd(L_ISR + 0x30)) ? "no" : "yes");
}

/* The I/O APIC: version, ID, arbitration, the redirection table, PIT IRQ0 routed through pin
 * 2 to the local APIC with the 8259 masked (and nothing on pin 0), the 8259 held back by a
 * masked LINT0, COM1's IRQ4 on pin 4 as a
 * level-triggered interrupt: remote IRR while in service, sent again after an EOI while the
 * line is high, cleared by the EOI once the line is low. */
#include "tests/guests/lib/guest.h"
#include "arch/x86/apic.h"

static uint32_t io_rd(unsigned r)
{
    *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_REGSEL) = r;
    return *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_WIN);
}
static void io_wr(unsigned r, uint32_t v)
{
    *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_REGSEL) = r;
    *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_WIN) = v;
}
static void lapic_eoi(void) { *(volatile uint32_t *)(LAPIC_BASE + LAPIC_EOI) = 0; }
#define RED(pin) (IOAPIC_REG_TABLE + 2 * (pin))

static volatile uint32_t ticks, late_ticks, pin0, com, com_remote_irr[4], pic_ticks;

/* Five ticks, however fast; then the pin is masked. An edge between the fifth and its mask
 * is already in the local APIC's IRR and still arrives (on a slow or virtual machine). */
static void on_tick(struct gframe *f)
{
    (void)f;
    if (ticks == 5) late_ticks++;
    else if (++ticks == 5) io_wr(RED(2), IORED_MASKED | 0x30);
    lapic_eoi();
}

static void on_pin0(struct gframe *f) { (void)f; pin0++; lapic_eoi(); }

static void on_pic_tick(struct gframe *f) { (void)f; pic_ticks++; pic_mask(0xffff); pic_eoi(0); }

/* COM1 (level): the first time leave the line high, so the EOI brings it back; the second
 * time read IIR, which lowers it. */
static void on_com(struct gframe *f)
{
    (void)f;
    if (com < 4) com_remote_irr[com] = io_rd(RED(4)) & IORED_REMOTE_IRR;
    if (++com >= 2) inb(0x3fa);
    if (com >= 4) outb(0x3f9, 0);
    lapic_eoi();
}

static void registers(void)
{
    check_eq(io_rd(IOAPIC_REG_VER), 0x00170020, "version 0x20, 24 pins");
    check_eq(io_rd(IOAPIC_REG_ID), 0, "ID 0");
    check_eq(io_rd(IOAPIC_REG_ARB), 0, "arbitration ID 0");
    io_wr(IOAPIC_REG_ID, 0x05000000);
    check_eq(io_rd(IOAPIC_REG_ID), 0x05000000, "ID written");
    io_wr(IOAPIC_REG_ID, 0);
    io_wr(IOAPIC_REG_VER, 0);
    check_eq(io_rd(IOAPIC_REG_VER), 0x00170020, "version is read-only");
    check_eq(io_rd(RED(23)), IORED_MASKED, "pin 23 masked at start");
    io_wr(RED(10), IORED_MASKED | IORED_LEVEL | (DM_LOWEST << LVT_DM_SHIFT) | 0x77);
    io_wr(RED(10) + 1, 0x01000000);
    check_eq(io_rd(RED(10)), IORED_MASKED | IORED_LEVEL | (DM_LOWEST << LVT_DM_SHIFT) | 0x77, "entry low word");
    check_eq(io_rd(RED(10) + 1), 0x01000000, "entry high word (destination)");
    io_wr(RED(10), IORED_MASKED);
    io_wr(RED(10) + 1, 0);
    *(volatile uint8_t *)(IOAPIC_BASE + IOAPIC_REGSEL) = IOAPIC_REG_VER;     /* a byte write */
    check_eq(*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_WIN), 0x00170020, "IOREGSEL written as a byte");
}

static void pit_through_ioapic(void)
{
    set_handler(0x30, on_tick, 0, false);
    set_handler(0x31, on_pin0, 0, false);
    io_wr(RED(0), 0x31);              /* nothing is wired to pin 0 */
    io_wr(RED(2), 0x30);              /* fixed, edge, physical destination APIC 0 */
    pit_periodic(1000);
    while (ticks < 5) __asm__ volatile("sti; hlt; cli");
    io_wr(RED(0), IORED_MASKED | 0x31);
    for (int i = 0; i < 1000; i++) __asm__ volatile("sti; nop; nop; cli");
    check_eq(ticks, 5, "PIT IRQ0 through IOAPIC pin 2: five timer interrupts, 8259 masked");
    check(late_ticks <= 1, "none once the pin is masked");
    check_eq(pin0, 0, "pin 0 got nothing");
    check_eq(io_rd(RED(2)) & IORED_REMOTE_IRR, 0, "edge pin: no remote IRR");
}

/* The 8259 reaches the CPU through the local APIC's LINT0 (ExtINT): masked there, its
 * request waits; unmasked, it comes. */
static void pic_through_lint0(void)
{
    volatile uint32_t *lint0 = (volatile uint32_t *)(LAPIC_BASE + LAPIC_LVT_LINT0);
    uint32_t was = *lint0;
    set_handler(0x20, on_pic_tick, 0, false);
    *lint0 = was | LVT_MASKED;
    pic_mask(0xfffe);
    for (int i = 0; i < 1000000; i++) { outb(0x20, 0x0a); if (inb(0x20) & 1) break; }
    for (int i = 0; i < 20; i++) __asm__ volatile("sti; nop; nop; cli");
    check_eq(pic_ticks, 0, "8259 IRQ0 held back while LINT0 is masked");
    *lint0 = was;
    for (int i = 0; i < 20 && !pic_ticks; i++) __asm__ volatile("sti; nop; nop; cli");
    check_eq(pic_ticks, 1, "and delivered once LINT0 is unmasked");
    pic_mask(0xffff);
}

static void level_com1(void)
{
    set_handler(0x34, on_com, 0, false);
    io_wr(RED(4), IORED_LEVEL | 0x34);
    /* Nothing is printed while COM1's transmitter interrupt is on: printing raises it. */
    outb(0x3f9, 0x02);                /* IER: transmitter empty */
    for (int i = 0; i < 100; i++) __asm__ volatile("sti; nop; nop; cli");
    outb(0x3f9, 0);
    uint32_t after = io_rd(RED(4));
    io_wr(RED(4), IORED_MASKED);
    check_eq(com, 2, "level IRQ4: sent again after an EOI with the line high, then no more");
    check_eq(com_remote_irr[0], IORED_REMOTE_IRR, "remote IRR set while the first is in service");
    check_eq(com_remote_irr[1], IORED_REMOTE_IRR, "remote IRR set for the second");
    check_eq(after & IORED_REMOTE_IRR, 0, "the EOI with the line low cleared remote IRR");
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pic_init();                       /* 8259s initialised and masked: only the IOAPIC delivers */
    registers();
    pit_through_ioapic();
    pic_through_lint0();
    level_com1();
    return summary("ioapic");
}

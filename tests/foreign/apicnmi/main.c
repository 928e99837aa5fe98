/* apicnmi: NMIs from the local APIC and the I/O APIC, as a kernel's NMI watchdog or its
 * "backtrace all CPUs" IPI makes them: an NMI IPI to its own APIC ID and to all including
 * self, a second NMI held until the first handler's IRET, the PIT through an I/O APIC
 * redirection entry in NMI mode, and the 8259 through LINT0 in NMI mode. All with IF clear.
 *
 * It waited in tests/foreign-pending while umbra had no virtual NMI and dropped them all
 * (monitor/nmi.c now delivers them). QEMU sends an NMI at every update of the 8259 while its
 * INT is high, umbra (as the SDM's edge-triggered LINT0) one per rising edge: "at least one".
 * The start-up files are apicos's. */
#include "hw.h"
uint32_t ioapic_base = 0xfec00000u;
uint32_t timer_per_ms = 1000000;
static volatile uint32_t nmis, nmi_if, nested_sent, nmis_at_iret;
static void on_nmi(struct frame *f)
{
    nmis++;
    nmi_if = (f->eflags >> 9) & 1;
    if (nested_sent == 1) {
        nested_sent = 2;
        lapic_wr(L_ICRHI, 0);
        lapic_wr(L_ICRLO, 0x400 | (2u << 18));          /* another NMI, to all including self */
        pit_delay_us(2000);
        nmis_at_iret = nmis;
    }
}
static void wait_nmis(uint32_t want)
{
    for (unsigned i = 0; i < 100 && nmis < want; i++) pit_delay_us(1000);
}
uint32_t kernel_main(uint32_t magic, uint32_t mbi);
uint32_t kernel_main(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    idt_init();
    set_handler(2, on_nmi);
    outb(0x21, 0xff); outb(0xa1, 0xff);
    cli();
    kprintf("apicnmi: interrupts off throughout\n");
    lapic_wr(L_ICRHI, 0);
    lapic_wr(L_ICRLO, 0x400);                               /* NMI, physical, my ID */
    wait_nmis(1);
    kprintf("nmi: IPI to my APIC ID: %u, IF in its frame %u\n", nmis, nmi_if);
    lapic_wr(L_ICRLO, 0x400 | (2u << 18));
    wait_nmis(2);
    kprintf("nmi: IPI to all including self: %u\n", nmis);
    nested_sent = 1;
    lapic_wr(L_ICRLO, 0x400 | (2u << 18));
    wait_nmis(4);
    kprintf("nmi: one sent from the handler: taken inside it %s, after its IRET %s\n",
            nmis_at_iret > 3 ? "yes" : "no", nmis >= 4 ? "yes" : "no");
    /* The PIT through the I/O APIC, redirection entry in NMI mode (pin 2, edge). */
    ioapic_wr(0x10 + 2 * 2, 0x400);
    ioapic_wr(0x11 + 2 * 2, 0);
    uint32_t before = nmis;
    outb(0x43, 0x30); outb(0x40, 0xa9); outb(0x40, 0x04);   /* mode 0, 1 ms */
    wait_nmis(before + 1);
    ioapic_wr(0x10 + 2 * 2, 0x10000);
    kprintf("nmi: PIT through an NMI redirection entry: %u\n", nmis - before);
    /* The 8259's output on LINT0 in NMI mode (an old NMI watchdog's wiring). */
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 4); outb(0x21, 1); outb(0x21, 0xfe);
    lapic_wr(L_LINT0, 0x400);
    before = nmis;
    outb(0x43, 0x30); outb(0x40, 0xa9); outb(0x40, 0x04);
    wait_nmis(before + 1);
    lapic_wr(L_LINT0, 0x10700);
    outb(0x21, 0xff);
    kprintf("nmi: 8259 through LINT0 in NMI mode: at least one: %s\n", nmis > before ? "yes" : "no");
    return nmis >= 6 ? 0 : 1;
}

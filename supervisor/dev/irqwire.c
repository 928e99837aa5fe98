/* The interrupt wiring of the virtual PC, and the one place that answers "which vector does
 * the CPU take next": the 8259's, when LINT0 lets it through in ExtINT mode, else the local
 * APIC's highest deliverable vector. An ExtINT interrupt goes to the core directly, without
 * the IRR, the ISR or the TPR (SDM Vol. 3A 10.8.1), so it does not wait behind the APIC's
 * own requests; QEMU and KVM take it first too. In NMI mode LINT0 turns a rising edge of the
 * 8259's INT into an NMI instead (an old NMI watchdog's wiring), and the 8259 is never
 * acknowledged for it. LINT1 has nothing behind it: a PC's chipset NMI (parity and I/O
 * channel checks, port 0x61 bits 6-7, masked by port 0x70 bit 7) has no source here. */
#include "supervisor/dev/irqwire.h"

unsigned irq_to_pin(unsigned irq) { return irq == 0 ? 2 : irq; }

void irq_line(const struct irqwire *w, unsigned irq, bool level)
{
    vpic_set_irq(w->pic, irq, level);
    vioapic_set_irq(w->ioapic, irq_to_pin(irq), level);
    irq_lint0_sync(w);
}

void irq_lint0_sync(const struct irqwire *w)
{
    vlapic_lint0(w->lapic, vpic_pending(w->pic));
}

bool cpu_irq_pending(const struct irqwire *w)
{
    return vlapic_pending(w->lapic) >= 0 || (vlapic_lint0_open(w->lapic) && vpic_pending(w->pic));
}

uint8_t cpu_irq_ack(const struct irqwire *w)
{
    if (vlapic_lint0_open(w->lapic) && vpic_pending(w->pic)) {
        uint8_t v = vpic_ack(w->pic);
        irq_lint0_sync(w);
        return v;
    }
    return vlapic_ack(w->lapic);
}

bool cpu_nmi_armed(const struct irqwire *w)
{
    return vioapic_nmi_armed(w->ioapic) || vlapic_lint0_nmi(w->lapic);
}

/* How a PC wires its interrupt lines: ISA IRQ n to the 8259 pair and to an IOAPIC pin, the
 * 8259's INT output to the local APIC's LINT0, the local APIC to the CPU. */
#ifndef SUPERVISOR_DEV_IRQWIRE_H
#define SUPERVISOR_DEV_IRQWIRE_H
#include <stdbool.h>
#include <stdint.h>
#include "supervisor/dev/vpic.h"
#include "supervisor/dev/vioapic.h"
#include "supervisor/dev/vlapic.h"

struct irqwire {
    struct vpic *pic;
    struct vioapic *ioapic;
    struct vlapic *lapic;
};

/* The IOAPIC pin ISA IRQ irq reaches: the same number, except IRQ0 (the PIT) on pin 2. */
unsigned irq_to_pin(unsigned irq);
/* Drive ISA line irq (0-15) to level, on the 8259 and on its IOAPIC pin. */
void irq_line(const struct irqwire *w, unsigned irq, bool level);
/* The 8259's INT output may have changed (a line, a port access, an acknowledge): LINT0
 * follows it. Everything that changes the 8259 calls this after. */
void irq_lint0_sync(const struct irqwire *w);
/* Does the CPU's interrupt input ask for an interrupt: a LAPIC vector above its priority,
 * or the 8259's INT through an open LINT0? */
bool cpu_irq_pending(const struct irqwire *w);
/* The interrupt-acknowledge cycle: the vector the CPU takes (the 8259's through an ExtINT
 * LINT0 first, then the LAPIC's). */
uint8_t cpu_irq_ack(const struct irqwire *w);
/* Could an NMI reach the CPU without the CPU doing anything: an IOAPIC entry or LINT0 in NMI
 * mode, unmasked? (An NMI IPI needs the CPU to send it.) */
bool cpu_nmi_armed(const struct irqwire *w);

#endif

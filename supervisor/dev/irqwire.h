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
/* Does the CPU's interrupt input ask for an interrupt: a LAPIC vector above its priority,
 * or the 8259's INT through an open LINT0? */
bool cpu_irq_pending(const struct irqwire *w);
/* The interrupt-acknowledge cycle: the vector the CPU takes (LAPIC first, then the 8259). */
uint8_t cpu_irq_ack(const struct irqwire *w);

#endif

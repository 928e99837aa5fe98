/* The virtual I/O APIC (82093AA-like, version 0x20): 24 pins routed to the local APIC. */
#ifndef SUPERVISOR_DEV_VIOAPIC_H
#define SUPERVISOR_DEV_VIOAPIC_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/apic.h"
#include "supervisor/dev/vlapic.h"

#define VIOAPIC_VERSION 0x20u

struct vioapic {
    uint8_t regsel;                  /* IOREGSEL */
    uint8_t id;
    uint32_t lo[IOAPIC_PINS], hi[IOAPIC_PINS];   /* the redirection table */
    uint32_t lines;                  /* input levels, one bit a pin */
    struct vlapic *lapic;            /* the one destination there is */
    uint32_t delivered, dropped;     /* messages sent; edges or modes nobody took */
};

/* Power-on state: ID 0, every pin masked, edge-triggered; messages go to lapic. */
void vioapic_init(struct vioapic *a, struct vlapic *lapic);
/* Access at byte offset off of its page (IOREGSEL 0x00, IOWIN 0x10, EOI 0x40). */
uint32_t vioapic_read(struct vioapic *a, uint32_t off, unsigned size);
void vioapic_write(struct vioapic *a, uint32_t off, unsigned size, uint32_t v);
/* Drive pin to level: an edge pin sends on the rising edge, a level pin while high. */
void vioapic_set_irq(struct vioapic *a, unsigned pin, bool level);
/* Could a pin send the CPU an NMI by itself: an unmasked entry in NMI mode that names it? */
bool vioapic_nmi_armed(const struct vioapic *a);
/* The local APIC's EOI of a level-triggered vector: clear remote IRR of the pins using it. */
void vioapic_eoi(struct vioapic *a, uint8_t vector);

#endif

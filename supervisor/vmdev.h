/* A VM's devices as the supervisor serves them: port accesses from the monitor. */
#ifndef SUPERVISOR_VMDEV_H
#define SUPERVISOR_VMDEV_H
#include <stdbool.h>
#include <stdint.h>
#include "supervisor/dev/vpic.h"
#include "supervisor/dev/vpit.h"
#include "supervisor/dev/vcmos.h"
#include "supervisor/dev/vuart.h"
#include "supervisor/dev/vide.h"
#include "supervisor/dev/vkbd.h"
#include "supervisor/dev/vlapic.h"
#include "supervisor/dev/vioapic.h"
#include "supervisor/dev/irqwire.h"

#define EXIT_PORT 0xf4          /* four ports, as QEMU's isa-debug-exit with iosize=4 */
/* The reset ports of a PC's chipset: System Control Port A (bit 0 a fast reset, bit 1 the A20
 * gate, which reads back and nothing else: guest memory never wraps at 1 MiB) and the Reset
 * Control Register (bit 2 resets). */
#define PORT_SYSCTL_A 0x92
#define PORT_RESET_CR 0xcf9

struct vm;
struct vmdev {
    struct vpic pic;
    struct vpit pit;
    struct vcmos cmos;
    struct vuart uart;             /* COM1 */
    struct vuart uart2;            /* COM2: its output goes nowhere */
    struct vide ide;               /* the primary IDE channel */
    struct vkbd kbd;               /* the i8042; kbd.reset: the guest reset itself */
    struct vlapic lapic;
    struct vioapic ioapic;
    struct irqwire wire;           /* ISA lines to the 8259 and the IOAPIC, both to the CPU */
    uint32_t mmio_reads, mmio_writes;
    bool exited;
    uint8_t exit_status;
    const char *reset;             /* how the guest reset the machine, NULL while it has not */
    uint8_t sysctl_a, reset_cr;    /* ports 0x92 and 0xcf9 as last written */
    uint32_t port_reads, port_writes;
    char line[128];                /* console line being collected when several VMs share COM1 */
    unsigned line_len;
};

/* Set the devices to the state a PC's firmware leaves them in (SeaBIOS's, but for IRQ0's
 * mask: see vmdev.c); disk (sectors of 512 bytes) backs the IDE disk, NULL for none. */
void vmdev_init(struct vm *vm, uint8_t *disk, uint32_t sectors);
/* The local APIC, the IOAPIC and the IRQ wiring in the state a BIOS leaves (vmdev_init). */
void vmdev_apic_init(struct vm *vm);
/* A guest port read of size 1, 2 or 4; unclaimed ports read all ones. An access wider than
 * a device's 8-bit registers is made of byte accesses, lowest port first. */
uint32_t vmdev_in(struct vm *vm, uint16_t port, unsigned size);
/* A guest port write. */
void vmdev_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
/* Bring the devices up to time now (ns): timer edges become interrupt requests. Returns
 * whether the interrupt controllers ask the CPU for an interrupt (vmdev_pending). */
bool vmdev_update(struct vm *vm, uint64_t now);
/* Does the 8259 (through LINT0) or the local APIC ask the CPU for an interrupt now? */
bool vmdev_pending(struct vm *vm);
/* Drive ISA interrupt line irq (0-15) to level: the 8259 input and its IOAPIC pin. */
void vmdev_set_irq(struct vm *vm, unsigned irq, bool level);
/* A guest access to a device page (gpa_is_device in the monitor): LAPIC or IOAPIC. Reads of
 * anything else there give all ones, writes are dropped. */
uint32_t vmdev_mmio_read(struct vm *vm, uint32_t gpa, unsigned size);
void vmdev_mmio_write(struct vm *vm, uint32_t gpa, unsigned size, uint32_t value);
/* The local APIC's NMI, if one came (IPI, IOAPIC, LINT0): the CPU takes it (true). */
bool vmdev_take_nmi(struct vm *vm);
/* Could a device send the CPU an NMI by itself (cpu_nmi_armed)? */
bool vmdev_nmi_armed(struct vm *vm);
/* A byte typed on the host's console for this VM; false when its buffer is full. */
bool vmdev_console_input(struct vm *vm, uint8_t byte);
/* The interrupt-acknowledge cycle: the vector the guest's CPU gets (the local APIC's
 * highest deliverable vector first, then the 8259's). */
uint8_t vmdev_ack(struct vm *vm);

#endif

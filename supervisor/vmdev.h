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

#define EXIT_PORT 0xf4

struct vm;
struct vmdev {
    struct vpic pic;
    struct vpit pit;
    struct vcmos cmos;
    struct vuart uart;             /* COM1 */
    struct vide ide;               /* the primary IDE channel */
    struct vkbd kbd;               /* the i8042; kbd.reset: the guest reset itself */
    bool exited;
    uint8_t exit_status;
    uint32_t port_reads, port_writes;
    char line[128];                /* console line being collected when several VMs share COM1 */
    unsigned line_len;
};

/* Set the devices to their power-on state; disk (sectors of 512 bytes) backs the IDE disk,
 * NULL for none. */
void vmdev_init(struct vm *vm, uint8_t *disk, uint32_t sectors);
/* A guest port read of size 1, 2 or 4; unclaimed ports read all ones. */
uint32_t vmdev_in(struct vm *vm, uint16_t port, unsigned size);
/* A guest port write. */
void vmdev_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
/* Bring the devices up to time now (ns): timer edges become interrupt requests. Returns
 * whether the interrupt controller asks the CPU for an interrupt. */
bool vmdev_update(struct vm *vm, uint64_t now);
/* A byte typed on the host's console for this VM; false when its buffer is full. */
bool vmdev_console_input(struct vm *vm, uint8_t byte);
/* The interrupt-acknowledge cycle: the vector the guest's CPU gets. */
uint8_t vmdev_ack(struct vm *vm);

#endif

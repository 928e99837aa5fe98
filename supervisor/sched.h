/* Running the VMs: launching them from the boot modules, the world-switch loop, the ring. */
#ifndef SUPERVISOR_SCHED_H
#define SUPERVISOR_SCHED_H
#include <stdbool.h>
#include <stdint.h>

/* Make a VM of every guest module; report the ones that cannot start. Returns how many started. */
unsigned vms_launch(void);
/* What vms_run returns when the VM that ended last reset its machine. */
#define VM_END_RESET (-1)
/* Run every VM until all have ended; returns the exit status of the one that ended last, or
 * VM_END_RESET. */
int vms_run(void);

#endif

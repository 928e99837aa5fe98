/* Running the VMs: launching them from the boot modules, the world-switch loop, the ring. */
#ifndef SUPERVISOR_SCHED_H
#define SUPERVISOR_SCHED_H
#include <stdbool.h>
#include <stdint.h>

/* Make a VM of every guest module; report the ones that cannot start. Returns how many started. */
unsigned vms_launch(void);
/* Run every VM until all have ended; returns the exit status of the one that ended last. */
uint8_t vms_run(void);
/* Did the VM that ended last end by resetting the machine (i8042 or port 0x92)? */
extern bool vms_last_reset;

#endif

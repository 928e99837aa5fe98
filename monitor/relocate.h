/* Moving the monitor region when the guest starts using its linear range. */
#ifndef MONITOR_RELOCATE_H
#define MONITOR_RELOCATE_H
#include <stdint.h>

/* The guest touched va inside the region through its own mapping: move the monitor to a
 * range the guest leaves unmapped, then let the guest's access run again. Never returns. */
__attribute__((noreturn)) void relocate_monitor(uint32_t va);

#endif

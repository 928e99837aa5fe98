/* Moving the monitor region when the guest starts using its linear range. */
#ifndef MONITOR_RELOCATE_H
#define MONITOR_RELOCATE_H
#include <stdbool.h>
#include <stdint.h>

/* The guest touched va inside the region through its own mapping: move the monitor to a
 * range the guest leaves unmapped, then let the guest's access run again. Never returns. */
__attribute__((noreturn)) void relocate_monitor(uint32_t va);

/* Does guest directory entry pde map a 4 MiB page with neither RAM nor a device page behind
 * it? The guest reaches nothing there that umbra does not emulate anyway (a hole reads as all
 * ones, writes go nowhere), so the region and the code window may stand over such a range
 * when the guest leaves no range unmapped (a kernel that maps all 4 GiB). */
bool region_pde_hole(uint32_t pde);

#endif

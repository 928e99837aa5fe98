/* The monitor's NMI handler and the watchdog it runs (monitor/watchdog.c). */
#ifndef MONITOR_WATCHDOG_H
#define MONITOR_WATCHDOG_H
#include "monitor/layout.h"

/* An NMI struck the guest (f is GUEST_FRAME) or the monitor (f lower on its stack): count it,
 * and suspend when the guest has had IF clear for the limit. Returns otherwise. */
void watchdog_nmi(struct guest_frame *f);

#endif

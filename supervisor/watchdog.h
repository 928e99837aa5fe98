/* The host's side of the NMI watchdog: the PIT's tick, sent as an NMI too, and its count. */
#ifndef SUPERVISOR_WATCHDOG_H
#define SUPERVISOR_WATCHDOG_H
#include <stdbool.h>
#include <stdint.h>

/* NMIs that arrived while the host itself ran (they are only counted). */
extern volatile uint32_t watchdog_host_nmis;

/* Make the PIT's IRQ0 edge reach the CPU as an NMI as well, through the I/O APIC (pin 2,
 * delivery mode NMI) and the local APIC, with LINT0 left in ExtINT so that the 8259 keeps
 * delivering the host's timer interrupt. Says on the log why not when the machine has no
 * APICs, and returns false then. Call after hostmap_init and pit_init, before the VMs exist. */
bool watchdog_init(void);
/* The watchdog's limit in NMIs (one per host tick) for a VM's monitor; 0 when it is off. */
uint32_t watchdog_limit(void);

#endif

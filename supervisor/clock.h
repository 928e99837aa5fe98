/* Time for the device models: nanoseconds since boot, from the TSC calibrated on the PIT. */
#ifndef SUPERVISOR_CLOCK_H
#define SUPERVISOR_CLOCK_H
#include <stdint.h>

/* Measure the TSC against the host tick (interrupts must be on). */
void clock_init(void);
/* Nanoseconds since clock_init. */
uint64_t clock_ns(void);
/* Seconds since 1970 at clock_ns() == 0, from the host's CMOS clock. */
uint64_t clock_epoch(void);
/* The TSC frequency found, in kHz. */
uint32_t clock_tsc_khz(void);

#endif

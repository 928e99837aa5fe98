/* The host's 8254 channel 0 as a periodic tick. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H
#include <stdint.h>

#define PIT_HZ 1193182u
extern volatile uint64_t ticks;
extern unsigned tick_hz;

/* Program channel 0 in rate-generator mode at `hz` and take IRQ0. */
void pit_init(unsigned hz);

#endif

/* The host's 8254 channel 0 as a periodic tick. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H
#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182u
extern volatile uint64_t ticks;
extern unsigned tick_hz;

/* Program channel 0 in rate-generator mode at `hz` and take IRQ0. */
void pit_init(unsigned hz);
/* Channel 0's OUT pin right now (8254 read-back status); in mode 2 it is low for one input
 * clock per period, just before the rising edge that is IRQ0. */
bool pit_out_high(void);

#endif

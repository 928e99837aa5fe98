/* hobbyos with the timer at 1000 Hz: the same kernel, ten times the preemption. */
#define HZ 1000
#include "../hobbyos/kernel.c"

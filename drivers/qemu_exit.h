/* QEMU's isa-debug-exit device: a write ends QEMU with status (value << 1) | 1. */
#ifndef DRIVERS_QEMU_EXIT_H
#define DRIVERS_QEMU_EXIT_H
#include <stdint.h>

#define QEMU_EXIT_PORT 0xf4
/* Ask QEMU to exit with `status`; returns only if no such device is there. */
void qemu_exit(uint8_t status);

#endif

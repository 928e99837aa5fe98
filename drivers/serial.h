/* The host's 16550 serial ports (COM1, COM2), polled. */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H
#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8

/* Program the port for 115200 8N1 with FIFOs; false when no UART answers there. */
bool serial_init(uint16_t base);
/* Send one byte, waiting for room in the transmitter. */
void serial_putc(uint16_t base, char c);
/* A received byte, or -1 when none is waiting. */
int serial_getc(uint16_t base);

#endif

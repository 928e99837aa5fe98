/* Device pages for the instruction emulator: its bus, with LAPIC and IOAPIC accesses sent to
 * the supervisor's models over the ring. */
#ifndef MONITOR_MMIO_H
#define MONITOR_MMIO_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/emu/emulate.h"
#include "lib/ring.h"

/* Bus fault codes beside GWALK_FAULT | error: a device read must go to the supervisor first;
 * an access the bus cannot forward (it straddles a device page, or too many device parts). */
#define MMIO_WAIT        0x40000000u
#define MMIO_UNSUPPORTED 0x20000000u

/* The emulator's bus: guest-linear memory with the guest's rights, device pages forwarded. */
extern const struct emu_bus mmio_bus;
/* Where the last bus access faulted (for a #PF). */
extern uint32_t mmio_fault_va;

/* A new instruction: forget the device values read for the previous one. */
void mmio_begin(void);
/* After MMIO_WAIT: the request for the device read the instruction waits for. */
void mmio_read_request(struct msg *req);
/* The supervisor's answer to that request; the instruction then runs again from its start
 * and the bus hands it the values read so far, in order. */
void mmio_read_answer(uint32_t value);
/* After the instruction completed: post its device writes, in order. false if it made none;
 * otherwise the last one is left in *last for the caller to send with its suspension. */
bool mmio_take_writes(struct msg *last);

#endif

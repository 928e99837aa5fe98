/* A VM's devices, first version: COM1 output and the registers a driver probes, and the
 * test exit port. Everything else answers as an empty PC slot does: all ones. */
#include "supervisor/vmdev.h"
#include "supervisor/vm.h"
#include "drivers/serial.h"
#include "supervisor/log.h"
#include "lib/string.h"

#define COM1 0x3f8
#define LCR_DLAB 0x80

void vmdev_init(struct vm *vm)
{
    memset(&vm->dev, 0, sizeof vm->dev);
    vm->dev.uart_lcr = 0x03;
}

/* COM1 register read. */
static uint8_t uart_in(struct vmdev *d, unsigned reg)
{
    switch (reg) {
    case 0: return (d->uart_lcr & LCR_DLAB) ? d->uart_dll : 0;
    case 1: return (d->uart_lcr & LCR_DLAB) ? d->uart_dlm : d->uart_ier;
    case 2: return (d->uart_fcr & 1) ? 0xc1 : 0x01;     /* no interrupt pending; FIFO bits */
    case 3: return d->uart_lcr;
    case 4: return d->uart_mcr;
    case 5: return 0x60;                                 /* THR empty, transmitter empty */
    case 6: return (d->uart_mcr & 0x10) ? (uint8_t)((d->uart_mcr & 0x0c) << 4 | (d->uart_mcr & 0x03) << 4) : 0xb0;
    default: return d->uart_scr;
    }
}

/* A console byte from the guest. With one VM it goes to the host's COM1 unchanged; with
 * several, whole lines go out prefixed with the VM's name so they stay readable. */
static void console_byte(struct vm *vm, uint8_t v)
{
    struct vmdev *d = &vm->dev;
    if (nvms <= 1) { serial_putc(COM1_PORT, (char)v); return; }
    if (v != '\n' && d->line_len < sizeof d->line - 1) { d->line[d->line_len++] = (char)v; return; }
    d->line[d->line_len] = 0;
    for (const char *p = vm->set.name; *p; p++) serial_putc(COM1_PORT, *p);
    serial_putc(COM1_PORT, ':');
    serial_putc(COM1_PORT, ' ');
    for (unsigned i = 0; i < d->line_len; i++) serial_putc(COM1_PORT, d->line[i]);
    serial_putc(COM1_PORT, '\n');
    d->line_len = 0;
    if (v != '\n') d->line[d->line_len++] = (char)v;
}

/* COM1 register write: a byte to THR goes to the console. */
static void uart_out(struct vm *vm, unsigned reg, uint8_t v)
{
    struct vmdev *d = &vm->dev;
    switch (reg) {
    case 0:
        if (d->uart_lcr & LCR_DLAB) d->uart_dll = v;
        else if (!(d->uart_mcr & 0x10)) console_byte(vm, v);
        break;
    case 1: if (d->uart_lcr & LCR_DLAB) d->uart_dlm = v; else d->uart_ier = v & 0x0f; break;
    case 2: d->uart_fcr = v; break;
    case 3: d->uart_lcr = v; break;
    case 4: d->uart_mcr = v & 0x1f; break;
    case 7: d->uart_scr = v; break;
    default: break;
    }
}

uint32_t vmdev_in(struct vm *vm, uint16_t port, unsigned size)
{
    vm->dev.port_reads++;
    if (size == 1 && port >= COM1 && port < COM1 + 8) return uart_in(&vm->dev, port - COM1);
    return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
}

void vmdev_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    vm->dev.port_writes++;
    if (port == EXIT_PORT) {
        vm->dev.exited = true;
        vm->dev.exit_status = (uint8_t)value;
        return;
    }
    if (size == 1 && port >= COM1 && port < COM1 + 8) uart_out(vm, port - COM1, (uint8_t)value);
}

/* A VM's devices, first version: COM1 output and the registers a driver probes, and the
 * test exit port. Everything else answers as an empty PC slot does: all ones. */
#include "supervisor/vmdev.h"
#include "supervisor/vm.h"
#include "drivers/serial.h"
#include "supervisor/log.h"
#include "supervisor/clock.h"
#include "lib/string.h"

#define COM1 0x3f8
#define LCR_DLAB 0x80

/* The state a PC BIOS leaves: the 8259s at vectors 0x08 and 0x70 with everything but the
 * cascade masked, and PIT channel 0 running at 18.2 Hz in mode 3. */
void vmdev_init(struct vm *vm)
{
    static const uint8_t pic_boot[][2] = {
        { 0x20, 0x11 }, { 0x21, 0x08 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0xfb },
        { 0xa0, 0x11 }, { 0xa1, 0x70 }, { 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0xa1, 0xff },
    };
    uint64_t now = clock_ns();
    memset(&vm->dev, 0, sizeof vm->dev);
    vm->dev.uart_lcr = 0x03;
    vpic_init(&vm->dev.pic);
    vmdev_apic_init(vm);
    for (unsigned i = 0; i < sizeof pic_boot / sizeof pic_boot[0]; i++)
        vpic_write(&vm->dev.pic, pic_boot[i][0], pic_boot[i][1]);
    vcmos_init(&vm->dev.cmos, clock_epoch(), vm->guest_pages * 4096u);
    vpit_init(&vm->dev.pit);
    vpit_write(&vm->dev.pit, VPIT_CTRL, 0x36, now);
    vpit_write(&vm->dev.pit, VPIT_CH0, 0, now);
    vpit_write(&vm->dev.pit, VPIT_CH0, 0, now);
}

bool vmdev_update(struct vm *vm, uint64_t now)
{
    if (vpit_irq0_edges(&vm->dev.pit, now)) {
        vmdev_set_irq(vm, 0, true);
        vmdev_set_irq(vm, 0, false);
    }
    vlapic_update(&vm->dev.lapic, now);
    return vmdev_pending(vm);
}

uint8_t vmdev_ack(struct vm *vm)
{
    return cpu_irq_ack(&vm->dev.wire);
}

/* Is port one of the 8259 pair's? */
static bool pic_port(uint16_t port)
{
    return port == VPIC_MASTER_CMD || port == VPIC_MASTER_DATA || port == VPIC_SLAVE_CMD ||
           port == VPIC_SLAVE_DATA || port == VPIC_ELCR0 || port == VPIC_ELCR1;
}

/* Is port one of the 8254's (or port 0x61)? */
static bool pit_port(uint16_t port)
{
    return (port >= VPIT_CH0 && port <= VPIT_CTRL) || port == VPIT_PORTB;
}

#define IER_RDA  0x01
#define IER_THRE 0x02

/* COM1's interrupt line: received data or an empty transmitter, as IER enables them. */
static void uart_irq(struct vmdev *d)
{
    bool level = ((d->uart_ier & IER_RDA) && d->rx_count) || ((d->uart_ier & IER_THRE) && d->thre_ip);
    irq_line(&d->wire, 4, level);
}

bool vmdev_console_input(struct vm *vm, uint8_t byte)
{
    struct vmdev *d = &vm->dev;
    if (d->rx_count == sizeof d->rx) return false;
    d->rx[(d->rx_head + d->rx_count++) % sizeof d->rx] = byte;
    uart_irq(d);
    return true;
}

/* IIR: the highest-priority pending interrupt (received data, then transmitter empty). */
static uint8_t uart_iir(struct vmdev *d)
{
    uint8_t fifo = (d->uart_fcr & 1) ? 0xc0 : 0;
    if ((d->uart_ier & IER_RDA) && d->rx_count) return fifo | 0x04;
    if ((d->uart_ier & IER_THRE) && d->thre_ip) {
        d->thre_ip = false;              /* reading IIR with THRE reported clears it */
        uart_irq(d);
        return fifo | 0x02;
    }
    return fifo | 0x01;
}

/* COM1 register read. */
static uint8_t uart_in(struct vmdev *d, unsigned reg)
{
    switch (reg) {
    case 0:
        if (d->uart_lcr & LCR_DLAB) return d->uart_dll;
        if (!d->rx_count) return 0;
        {
            uint8_t b = d->rx[d->rx_head];
            d->rx_head = (d->rx_head + 1) % sizeof d->rx;
            d->rx_count--;
            uart_irq(d);
            return b;
        }
    case 1: return (d->uart_lcr & LCR_DLAB) ? d->uart_dlm : d->uart_ier;
    case 2: return uart_iir(d);
    case 3: return d->uart_lcr;
    case 4: return d->uart_mcr;
    case 5: return (uint8_t)(0x60 | (d->rx_count ? 1 : 0));   /* THR and transmitter empty; DR */
    case 6:
        /* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
        if (d->uart_mcr & 0x10)
            return (uint8_t)((d->uart_mcr & 1) << 5 | (d->uart_mcr & 2) << 3 | (d->uart_mcr & 0x0c) << 4);
        return 0xb0;
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
        if (d->uart_lcr & LCR_DLAB) { d->uart_dll = v; break; }
        if (d->uart_mcr & 0x10) vmdev_console_input(vm, v);     /* loopback */
        else console_byte(vm, v);
        d->thre_ip = true;               /* sent at once: the holding register is empty again */
        uart_irq(d);
        break;
    case 1:
        if (d->uart_lcr & LCR_DLAB) { d->uart_dlm = v; break; }
        if ((v & IER_THRE) && !(d->uart_ier & IER_THRE)) d->thre_ip = true;
        d->uart_ier = v & 0x0f;
        uart_irq(d);
        break;
    case 2:
        d->uart_fcr = v;
        if (v & 2) { d->rx_count = 0; uart_irq(d); }     /* clear the receive FIFO */
        break;
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
    if (size == 1 && pic_port(port)) return vpic_read(&vm->dev.pic, port);
    if (size == 1 && pit_port(port)) return vpit_read(&vm->dev.pit, port, clock_ns());
    if (size == 1 && (port == VCMOS_INDEX || port == VCMOS_DATA)) return vcmos_read(&vm->dev.cmos, port, clock_ns());
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
    else if (size == 1 && pic_port(port)) vpic_write(&vm->dev.pic, port, (uint8_t)value);
    else if (size == 1 && pit_port(port)) vpit_write(&vm->dev.pit, port, (uint8_t)value, clock_ns());
    else if (size == 1 && (port == VCMOS_INDEX || port == VCMOS_DATA)) vcmos_write(&vm->dev.cmos, port, (uint8_t)value, clock_ns());
}

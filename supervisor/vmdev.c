/* A VM's devices as ports: the 8259s, the 8254, CMOS, the i8042, COM1 and COM2, port 0x92,
 * the IDE channel and the test exit port. Everything else answers as an empty PC slot does:
 * all ones. */
#include "supervisor/vmdev.h"
#include "supervisor/vm.h"
#include "drivers/serial.h"
#include "supervisor/log.h"
#include "supervisor/clock.h"
#include "lib/string.h"

#define COM1 0x3f8
#define COM2 0x2f8

/* The state SeaBIOS leaves under QEMU: the 8259s at vectors 0x08 and 0x70 with IRQ 0, 1, 2
 * and 6 and IRQ 8, 12, 13 and 14 unmasked, IRQ 10 and 11 level-triggered in the ELCR (its PCI
 * lines), IRQ 3 and 4 requested (masked: its probe of the serial ports raised them), PIT
 * channel 0 running at 18.2 Hz in mode 2, A20 on in port 0x92. */
void vmdev_init(struct vm *vm, uint8_t *disk, uint32_t sectors)
{
    /* The 8259s as SeaBIOS leaves them, but for IRQ0: its 18.2 Hz tick stays masked. A guest
     * that enables interrupts before it programs its 8259 would take that tick on vector 8,
     * a double fault's; natively it may well be done before the first tick comes, but inside
     * umbra, slower, it would not be. */
    static const uint8_t pic_boot[][2] = {
        { 0x20, 0x11 }, { 0x21, 0x08 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0xb9 },
        { 0xa0, 0x11 }, { 0xa1, 0x70 }, { 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0xa1, 0x8e },
        { 0xd1, 0x0c },
    };
    uint64_t now = clock_ns();
    memset(&vm->dev, 0, sizeof vm->dev);
    vuart_init(&vm->dev.uart);
    vuart_init(&vm->dev.uart2);
    vide_init(&vm->dev.ide, disk, sectors);
    vkbd_init(&vm->dev.kbd);
    vm->dev.sysctl_a = 0x02;                 /* A20 on, as a BIOS leaves it */
    vpic_init(&vm->dev.pic);
    vmdev_apic_init(vm);
    for (unsigned i = 0; i < sizeof pic_boot / sizeof pic_boot[0]; i++)
        vpic_write(&vm->dev.pic, pic_boot[i][0] == 0xd1 ? VPIC_ELCR1 : pic_boot[i][0], pic_boot[i][1]);
    vm->dev.pic.chip[0].irr = 0x18;         /* the edges of SeaBIOS's serial probe on IRQ 3 and 4 */
    vcmos_init(&vm->dev.cmos, clock_epoch(), vm->guest_pages * 4096u);
    vpit_init(&vm->dev.pit);
    vpit_write(&vm->dev.pit, VPIT_CTRL, 0x34, now);
    vpit_write(&vm->dev.pit, VPIT_CH0, 0, now);
    vpit_write(&vm->dev.pit, VPIT_CH0, 0, now);
}

bool vmdev_update(struct vm *vm, uint64_t now)
{
    if (vpit_irq0_edges(&vm->dev.pit, now)) {
        vmdev_set_irq(vm, 0, true);
        vmdev_set_irq(vm, 0, false);
    }
    irq_line(&vm->dev.wire, VCMOS_IRQ, vcmos_update(&vm->dev.cmos, now));
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

bool vmdev_console_input(struct vm *vm, uint8_t byte)
{
    struct vmdev *d = &vm->dev;
    if (!vuart_receive(&d->uart, byte)) return false;
    irq_line(&d->wire, 4, vuart_irq(&d->uart));
    return true;
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

/* A register access to COM1 (its bytes go to the console, IRQ4) or COM2 (its bytes go
 * nowhere, as to QEMU's -serial file:/dev/null; IRQ3). */
static uint8_t uart_access(struct vm *vm, bool com2, unsigned reg, bool write, uint8_t v)
{
    struct vmdev *d = &vm->dev;
    struct vuart *u = com2 ? &d->uart2 : &d->uart;
    uint8_t r = 0;
    if (write) {
        int out = vuart_write(u, reg, v);
        if (out >= 0 && !com2) console_byte(vm, (uint8_t)out);
    } else {
        r = vuart_read(u, reg);
    }
    irq_line(&d->wire, com2 ? 3 : 4, vuart_irq(u));
    return r;
}

/* IRQ1 and IRQ12 follow the keyboard controller's output buffer. */
static void kbd_irqs(struct vmdev *d)
{
    irq_line(&d->wire, VKBD_IRQ, vkbd_irq1(&d->kbd));
    irq_line(&d->wire, 12, vkbd_irq12(&d->kbd));
}

/* The secondary IDE channel: there, with no drive on it (as QEMU's PIIX3 has it), so every
 * register reads 0 and writes go nowhere. */
static bool ide2_port(uint16_t port) { return (port >= 0x170 && port <= 0x177) || port == 0x376; }

/* Is port one of the 8-bit registers modelled here? */
static bool byte_port(uint16_t port)
{
    return (port >= COM1 && port < COM1 + 8) || (port >= COM2 && port < COM2 + 8) || pic_port(port) ||
           pit_port(port) || port == VCMOS_INDEX || port == VCMOS_DATA || port == VKBD_DATA ||
           port == VKBD_STATUS || port == PORT_SYSCTL_A;   /* not 0xcf9: a dword at 0xcf8 is PCI's */
}

/* Does a wider access from port touch an 8-bit register? It is then made of byte accesses,
 * lowest port first, as the ISA bus splits it (QEMU's models are byte-wide too). */
static bool split_access(uint16_t port, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        if (byte_port((uint16_t)(port + i))) return true;
    return false;
}

static uint8_t byte_in(struct vm *vm, uint16_t port)
{
    if (port >= COM1 && port < COM1 + 8) return uart_access(vm, false, port - COM1, false, 0);
    if (port >= COM2 && port < COM2 + 8) return uart_access(vm, true, port - COM2, false, 0);
    if (pic_port(port)) {
        uint8_t v = vpic_read(&vm->dev.pic, port);     /* a poll is an acknowledge */
        irq_lint0_sync(&vm->dev.wire);
        return v;
    }
    if (pit_port(port)) return vpit_read(&vm->dev.pit, port, clock_ns());
    if (port == VCMOS_INDEX || port == VCMOS_DATA) {
        uint8_t v = vcmos_read(&vm->dev.cmos, port, clock_ns());
        irq_line(&vm->dev.wire, VCMOS_IRQ, vcmos_irq(&vm->dev.cmos));     /* reading C lowers IRQ8 */
        return v;
    }
    if (port == VKBD_DATA || port == VKBD_STATUS) {
        uint8_t v = vkbd_read(&vm->dev.kbd, port);
        kbd_irqs(&vm->dev);
        return v;
    }
    if (port == PORT_SYSCTL_A) return vm->dev.sysctl_a;
    if (port == PORT_RESET_CR) return vm->dev.reset_cr;
    return 0xff;
}

static void byte_out(struct vm *vm, uint16_t port, uint8_t value)
{
    if (port >= COM1 && port < COM1 + 8) uart_access(vm, false, port - COM1, true, value);
    else if (port >= COM2 && port < COM2 + 8) uart_access(vm, true, port - COM2, true, value);
    else if (pic_port(port)) {
        vpic_write(&vm->dev.pic, port, value);
        irq_lint0_sync(&vm->dev.wire);
    }
    else if (pit_port(port)) vpit_write(&vm->dev.pit, port, value, clock_ns());
    else if (port == VCMOS_INDEX || port == VCMOS_DATA) {
        uint64_t now = clock_ns();
        vcmos_write(&vm->dev.cmos, port, value, now);
        irq_line(&vm->dev.wire, VCMOS_IRQ, vcmos_update(&vm->dev.cmos, now));  /* an enable meets a flag */
    } else if (port == VKBD_DATA || port == VKBD_STATUS) {
        vkbd_write(&vm->dev.kbd, port, value);
        kbd_irqs(&vm->dev);
        if (vm->dev.kbd.reset && !vm->dev.reset) vm->dev.reset = "through the keyboard controller";
    } else if (port == PORT_SYSCTL_A) {
        /* Bit 0 rising resets the CPU (the VM ends, see sched.c); bit 1 is the A20 gate,
         * kept as written but A20 stays on. */
        if ((value & 1) && !(vm->dev.sysctl_a & 1)) vm->dev.reset = "through port 0x92 (fast reset)";
        vm->dev.sysctl_a = value;
    } else if (port == PORT_RESET_CR) {
        if (value & 4) vm->dev.reset = "through the reset control register (port 0xcf9)";
        vm->dev.reset_cr = value & 2;
    }
}

uint32_t vmdev_in(struct vm *vm, uint16_t port, unsigned size)
{
    vm->dev.port_reads++;
    if (vide_port(port)) {
        uint32_t v = vide_read(&vm->dev.ide, port, size);
        irq_line(&vm->dev.wire, VIDE_IRQ, vide_irq(&vm->dev.ide));
        return v;
    }
    if (ide2_port(port)) return 0;
    if (port >= EXIT_PORT && port < EXIT_PORT + 4) return 0;   /* the exit device reads 0 */
    if (size == 1) return byte_in(vm, port);
    if (split_access(port, size)) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) v |= (uint32_t)byte_in(vm, (uint16_t)(port + i)) << (8 * i);
        return v;
    }
    return size == 2 ? 0xffff : 0xffffffffu;
}

void vmdev_out(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    vm->dev.port_writes++;
    if (port >= EXIT_PORT && port < EXIT_PORT + 4) {        /* isa-debug-exit, iosize=4 */
        vm->dev.exited = true;
        vm->dev.exit_status = (uint8_t)value;
        return;
    }
    if (vide_port(port)) {
        vide_write(&vm->dev.ide, port, size, value);
        irq_line(&vm->dev.wire, VIDE_IRQ, vide_irq(&vm->dev.ide));
    } else if (size == 1 || split_access(port, size)) {
        for (unsigned i = 0; i < size; i++) byte_out(vm, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
    }
}

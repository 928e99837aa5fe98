/* The host's 16550 serial ports, polled: enough for a console on QEMU and real PCs. */
#include "drivers/serial.h"
#include "arch/x86/io.h"

#define UART_DATA 0
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_SCR  7
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LCR_DLAB  0x80
#define LCR_8N1   0x03

bool serial_init(uint16_t base)
{
    /* A missing UART reads back all ones: check the scratch register first. */
    outb(base + UART_SCR, 0x5a);
    if (inb(base + UART_SCR) != 0x5a) return false;
    /* Programming it again (a second init) resets the FIFOs: let what was sent leave first. */
    for (unsigned i = 0; i < 1000000 && !(inb(base + UART_LSR) & LSR_TEMT); i++)
        __asm__ volatile("pause");
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_DATA, 1);          /* divisor 1: 115200 baud */
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_8N1);
    outb(base + UART_FCR, 0x07);        /* enable and clear FIFOs */
    outb(base + UART_MCR, 0x03);        /* DTR, RTS */
    return true;
}

void serial_putc(uint16_t base, char c)
{
    /* Bounded wait: a wedged UART must not hang the host forever. */
    for (unsigned i = 0; i < 1000000 && !(inb(base + UART_LSR) & LSR_THRE); i++)
        __asm__ volatile("pause");
    outb(base + UART_DATA, (uint8_t)c);
}

int serial_getc(uint16_t base)
{
    if (!(inb(base + UART_LSR) & LSR_DR)) return -1;
    return inb(base + UART_DATA);
}

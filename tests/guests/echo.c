/* COM1 input: bytes typed on the console, read by polling LSR.DR and then through IRQ4
 * (received-data interrupts), echoed back in capitals. */
#include "tests/guests/lib/guest.h"

#define COM1 0x3f8
static char line[64];
static volatile unsigned len, irqs;

/* IRQ4: drain the receive buffer. */
static void com_irq(struct gframe *f)
{
    (void)f;
    irqs++;
    while ((inb(COM1 + 5) & 1) && len < sizeof line - 1) line[len++] = (char)inb(COM1);
    pic_eoi(4);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    gprintf("echo: type a line\n");
    /* The first five bytes by polling. */
    for (unsigned spins = 0; len < 5 && spins < 50000000; spins++)
        if (inb(COM1 + 5) & 1) line[len++] = (char)inb(COM1);
    check_eq(len, 5, "five bytes polled");
    /* The rest by interrupts. */
    set_handler(0x24, com_irq, 0, false);
    pic_init();
    pic_mask(0xffef);
    outb(COM1 + 1, 0x01);                     /* IER: received data */
    for (unsigned waits = 0; (len == 0 || line[len - 1] != '\n') && waits < 1000; waits++)
        __asm__ volatile("sti; hlt; cli");
    outb(COM1 + 1, 0x00);
    check(irqs >= 1, "IRQ4 on received data");
    check_eq(inb(COM1 + 2) & 0x01, 0x01, "IIR: nothing pending once drained");
    line[len] = 0;
    for (unsigned i = 0; i < len; i++) if (line[i] >= 'a' && line[i] <= 'z') line[i] -= 32;
    gprintf("echo: %s", line);
    return summary("echo");
}

/* The 16550's FIFO in loopback: sixteen bytes deep, the received-data interrupt at the
 * trigger level, FIFO reset, THRE cleared by reading IIR. Overrun is in the unit tests only:
 * QEMU's loopback holds a seventeenth byte back instead of overrunning. Nothing is printed while in loopback (the bytes would loop back):
 * results are kept and reported afterwards. Below the trigger level QEMU reports either no
 * interrupt or the character timeout depending on time; only "not received data" is checked. */
#include "tests/guests/lib/guest.h"

#define COM1 0x3f8

/* Let the transmitter finish (bounded). */
static void drain(void) { for (unsigned i = 0; i < 1000000 && !(inb(COM1 + 5) & 0x40); i++) ; }

/* Send one byte through loopback and wait until it has arrived. */
static void loop_byte(uint8_t b)
{
    outb(COM1, b);
    drain();
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    uint8_t r[16];
    unsigned n = 0;
    drain();
    /* 300 baud while in loopback: QEMU's character timeout (four character times) then takes
     * 133 ms, so a host slow between two bytes does not turn "received data" into "timeout". */
    uint8_t lcr = inb(COM1 + 3);
    outb(COM1 + 3, lcr | 0x80);
    uint8_t dll = inb(COM1), dlm = inb(COM1 + 1);
    outb(COM1, 0x80);
    outb(COM1 + 1, 0x01);
    outb(COM1 + 3, lcr);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 2, 0x47);                  /* FIFOs on, both cleared, trigger 4 */
    outb(COM1 + 4, 0x10);                  /* loopback */
    outb(COM1 + 1, 0x05);                  /* received data, line status */
    r[n++] = inb(COM1 + 2);                /* 0: nothing yet */
    for (unsigned i = 0; i < 3; i++) loop_byte((uint8_t)(0x30 + i));
    r[n++] = inb(COM1 + 2);                /* 1: three bytes, below the trigger */
    r[n++] = inb(COM1 + 5);                /* 2: LSR: data ready */
    loop_byte(0x33);
    r[n++] = inb(COM1 + 2);                /* 3: four: at the trigger */
    for (unsigned i = 4; i < 16; i++) loop_byte((uint8_t)(0x30 + i));
    r[n++] = inb(COM1 + 5);                /* 4: sixteen: no overrun yet */
    r[n++] = inb(COM1 + 2);                /* 5: received data */
    unsigned in_order = 0;
    for (unsigned i = 0; i < 16; i++) in_order += inb(COM1) == 0x30 + i;
    r[n++] = inb(COM1 + 5);                /* 6: all read: no data */
    r[n++] = inb(COM1 + 2);                /* 7: nothing pending */
    loop_byte(0x55);
    outb(COM1 + 2, 0x43);                  /* 8: clear the receive FIFO */
    r[n++] = inb(COM1 + 5);
    outb(COM1 + 1, 0x02);                  /* THRE enabled with THR empty */
    r[n++] = inb(COM1 + 2);                /* 9: THRE */
    r[n++] = inb(COM1 + 2);                /* 10: cleared by reading IIR */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 2, 0x00);                  /* FIFOs off */
    r[n++] = inb(COM1 + 2);                /* 11: IIR without FIFO bits */
    outb(COM1 + 3, lcr | 0x80);
    outb(COM1, dll);
    outb(COM1 + 1, dlm);
    outb(COM1 + 3, lcr);
    outb(COM1 + 4, 0x03);                  /* loopback off: DTR, RTS as a BIOS leaves them */
    outb(COM1 + 2, 0x07);                  /* FIFOs back on for the report */
    (void)inb(COM1 + 5);

    check_eq(r[0], 0xc1, "IIR: FIFOs on, nothing pending");
    check((r[1] & 0x0f) != 0x04, "three bytes, trigger level 4: no received-data interrupt");
    check_eq(r[2] & 0x03, 0x01, "LSR: data ready, no overrun");
    check_eq(r[3], 0xc4, "fourth byte: received data at the trigger level");
    check_eq(r[4] & 0x03, 0x01, "sixteen bytes: no overrun");
    check_eq(r[5], 0xc4, "sixteen bytes: received data");
    check_eq(in_order, 16, "the FIFO kept sixteen bytes in order");
    check_eq(r[6] & 0x01, 0, "FIFO emptied");
    check_eq(r[7], 0xc1, "nothing pending once read");
    check_eq(r[8] & 0x01, 0, "FCR bit 1 clears the receive FIFO");
    check_eq(r[9], 0xc2, "IIR: transmitter empty once enabled");
    check_eq(r[10], 0xc1, "reading IIR cleared it");
    check_eq(r[11], 0x01, "FIFOs off: IIR bits 6-7 clear");
    return summary("uart");
}

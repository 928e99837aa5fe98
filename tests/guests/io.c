/* Port I/O: the COM1 registers a driver probes, port 0x80, ports with nothing behind them,
 * and string I/O (REP OUTSB/INSB, OUTSW) against the scratch register. */
#include "tests/guests/lib/guest.h"

#define COM1 0x3f8

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    gprintf("io: start\n");
    outb(COM1 + 7, 0x5a);
    check_eq(inb(COM1 + 7), 0x5a, "scratch register holds a byte");
    outb(COM1 + 7, 0xa5);
    check_eq(inb(COM1 + 7), 0xa5, "scratch register holds another");
    uint8_t lcr = inb(COM1 + 3);
    outb(COM1 + 3, lcr | 0x80);
    /* Nothing is printed while DLAB is set: the check's own bytes would land in the latch. */
    outb(COM1 + 0, 0x0c); outb(COM1 + 1, 0x00);
    uint8_t dll = inb(COM1 + 0), dlm = inb(COM1 + 1);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 3, lcr);
    check_eq(dll, 0x0c, "divisor latch low");
    check_eq(dlm, 0x00, "divisor latch high");
    check_eq(inb(COM1 + 3), lcr, "LCR round trip");
    outb(COM1 + 1, 0x00);
    check_eq(inb(COM1 + 1), 0x00, "IER round trip");
    /* The transmitter empties in its own time on a real UART: wait for it, boundedly. */
    for (unsigned i = 0; i < 1000000 && (inb(COM1 + 5) & 0x60) != 0x60; i++) ;
    check_eq(inb(COM1 + 5) & 0x60, 0x60, "LSR: transmitter empty");
    /* Resetting the FIFOs drops what is still in them: let the last line leave first. */
    for (unsigned i = 0; i < 1000000 && !(inb(COM1 + 5) & 0x40); i++) ;
    outb(COM1 + 2, 0x07);
    check_eq(inb(COM1 + 2) & 0xcf, 0xc1, "IIR: FIFOs on, nothing pending");
    /* In loopback the transmitter's bytes go back to the receiver, not out: read, then report. */
    for (unsigned i = 0; i < 1000000 && !(inb(COM1 + 5) & 0x40); i++) ;
    uint8_t mcr = inb(COM1 + 4);
    outb(COM1 + 4, 0x1f);
    uint8_t msr_all = inb(COM1 + 6);
    outb(COM1 + 4, 0x11);
    uint8_t msr_dtr = inb(COM1 + 6);
    outb(COM1 + 4, mcr);
    check_eq(msr_all & 0xf0, 0xf0, "MSR in loopback follows MCR");
    check_eq(msr_dtr & 0xf0, 0x20, "loopback: DTR shows as DSR");

    outb(0x80, 0x42);
    check_eq(inb(0x3e8), 0xff, "no COM3: a byte read gives all ones");
    check_eq(inw(0x120), 0xffff, "empty slot: word read");
    check_eq(inl(0x120), 0xffffffffu, "empty slot: dword read");

    /* String I/O: four bytes out to the scratch register, the last one stays. */
    static const char out[4] = { 1, 2, 3, 4 };
    const char *p = out;
    uint32_t n = 4;
    __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(COM1 + 7) : "memory");
    check_eq(inb(COM1 + 7), 4, "REP OUTSB: last byte written");
    check_eq(n, 0, "REP OUTSB: ECX counted down");
    check_eq((uint32_t)(p - out), 4, "REP OUTSB: ESI advanced");
    char in[3] = { 0, 0, 0 };
    char *q = in;
    n = 3;
    __asm__ volatile("rep insb" : "+D"(q), "+c"(n) : "d"(COM1 + 7) : "memory");
    check(in[0] == 4 && in[1] == 4 && in[2] == 4, "REP INSB: three reads of the scratch register");
    /* Backwards with DF set. */
    q = &in[2];
    n = 2;
    outb(COM1 + 7, 9);
    __asm__ volatile("std; rep insb; cld" : "+D"(q), "+c"(n) : "d"(COM1 + 7) : "memory");
    check(q == &in[0] && in[2] == 9 && in[1] == 9 && in[0] == 4, "REP INSB with DF: downwards");
    return summary("io");
}

/* The virtual 16550A UART (COM1): registers, receive FIFO, interrupt identification. */
#ifndef SUPERVISOR_DEV_VUART_H
#define SUPERVISOR_DEV_VUART_H
#include <stdbool.h>
#include <stdint.h>

#define VUART_FIFO 16

/* Register offsets from the base port. */
enum { UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
       UART_MSR = 6, UART_SCR = 7 };

#define UART_IER_RDA  0x01   /* received data available (and the FIFO timeout) */
#define UART_IER_THRE 0x02   /* transmitter holding register empty */
#define UART_IER_RLS  0x04   /* receiver line status */
#define UART_IER_MS   0x08   /* modem status */

#define UART_IIR_NONE    0x01
#define UART_IIR_MS      0x00
#define UART_IIR_THRE    0x02
#define UART_IIR_RDA     0x04
#define UART_IIR_RLS     0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO    0xc0

#define UART_FCR_ENABLE   0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

#define UART_LCR_DLAB 0x80
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    bool fifo;                     /* FCR bit 0: 16550 mode */
    uint8_t trigger;               /* receive FIFO trigger level: 1, 4, 8 or 14 */
    uint8_t rx[VUART_FIFO];        /* received bytes waiting for the guest */
    unsigned rx_head, rx_count;
    uint8_t rbr;                   /* 16450 mode: the last byte received (RBR keeps it) */
    bool overrun;                  /* LSR.OE until the guest reads LSR */
    bool thre_ip;                  /* a transmitter-empty interrupt is pending */
    uint8_t msr_lines;             /* MSR bits 4-7 as last read or changed */
    uint8_t msr_delta;             /* MSR bits 0-3: changes not yet read */
};

/* Power-on state, as QEMU's 16550 after reset (LCR 0, MCR OUT2, divisor 12, FIFOs off). */
void vuart_init(struct vuart *u);
/* Register read; reading RBR, IIR, LSR or MSR has the side effects a 16550 has. */
uint8_t vuart_read(struct vuart *u, unsigned reg);
/* Register write; returns the byte to transmit (THR written outside loopback) or -1. */
int vuart_write(struct vuart *u, unsigned reg, uint8_t v);
/* A byte arrives on the receive line; false (byte not taken) when the receiver is full. */
bool vuart_receive(struct vuart *u, uint8_t byte);
/* Room for received bytes (the host stops reading its own UART when there is none). */
unsigned vuart_room(const struct vuart *u);
/* The level of the UART's interrupt output. */
bool vuart_irq(const struct vuart *u);

#endif

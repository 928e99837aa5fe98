/* The virtual 16550: FIFO depth and trigger levels, overrun, IIR priority order, THRE
 * clearing by IIR read, modem-status deltas in loopback, the divisor latch. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vuart.h"

static uint8_t iir(struct vuart *u) { return vuart_read(u, UART_IIR_FCR); }

TEST(vuart_transmit_and_divisor_latch)
{
    struct vuart u;
    vuart_init(&u);
    CHECK_EQ(vuart_write(&u, UART_RBR_THR, 'A'), 'A');
    CHECK_EQ(vuart_read(&u, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    vuart_write(&u, UART_LCR, 0x83);
    CHECK_EQ(vuart_write(&u, UART_RBR_THR, 0x0c), -1);     /* DLAB: the latch, not THR */
    vuart_write(&u, UART_IER, 0x00);
    CHECK_EQ(vuart_read(&u, UART_RBR_THR), 0x0c);
    vuart_write(&u, UART_LCR, 0x03);
    CHECK_EQ(vuart_read(&u, UART_IER), 0);
    CHECK_EQ(iir(&u), UART_IIR_NONE);
}

TEST(vuart_fifo_off_holds_one_byte)
{
    struct vuart u;
    vuart_init(&u);
    CHECK(vuart_receive(&u, 1));
    CHECK(!vuart_receive(&u, 2));                  /* the host keeps it */
    CHECK_EQ(vuart_room(&u), 0);
    vuart_write(&u, UART_MCR, UART_MCR_LOOP);
    vuart_write(&u, UART_RBR_THR, 3);              /* loopback into a full receiver: overwrites */
    CHECK_EQ(vuart_read(&u, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    CHECK_EQ(vuart_read(&u, UART_LSR) & UART_LSR_OE, 0);   /* cleared by reading LSR */
    CHECK_EQ(vuart_read(&u, UART_RBR_THR), 3);
    CHECK_EQ(vuart_read(&u, UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(vuart_read(&u, UART_RBR_THR), 3);     /* RBR keeps the last byte */
    vuart_write(&u, UART_IIR_FCR, 0x07);
    CHECK_EQ(vuart_read(&u, UART_RBR_THR), 0);     /* an empty FIFO reads 0 */
}

TEST(vuart_reset_state)
{
    struct vuart u;
    vuart_init(&u);
    CHECK_EQ(vuart_read(&u, UART_LCR), 0x00);
    CHECK_EQ(vuart_read(&u, UART_MCR), 0x08);
    CHECK_EQ(vuart_read(&u, UART_MSR), 0xb0);
    vuart_write(&u, UART_LCR, 0x80);
    CHECK_EQ(vuart_read(&u, UART_RBR_THR), 0x0c);
    CHECK_EQ(vuart_read(&u, UART_IER), 0x00);
}

TEST(vuart_fifo_trigger_levels)
{
    static const uint8_t fcr[4] = { 0x01, 0x41, 0x81, 0xc1 }, level[4] = { 1, 4, 8, 14 };
    for (unsigned k = 0; k < 4; k++) {
        struct vuart u;
        vuart_init(&u);
        vuart_write(&u, UART_IIR_FCR, fcr[k]);
        vuart_write(&u, UART_IER, UART_IER_RDA);
        CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_NONE);
        CHECK(!vuart_irq(&u));
        for (unsigned i = 1; i <= level[k]; i++) {
            CHECK(vuart_receive(&u, (uint8_t)i));
            CHECK(vuart_irq(&u));
            CHECK_EQ(iir(&u), UART_IIR_FIFO | (i < level[k] ? UART_IIR_TIMEOUT : UART_IIR_RDA));
        }
        vuart_read(&u, UART_RBR_THR);
        if (level[k] > 1) CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_TIMEOUT);
    }
}

TEST(vuart_fifo_sixteen_deep_then_overrun_and_clear)
{
    struct vuart u;
    vuart_init(&u);
    vuart_write(&u, UART_IIR_FCR, 0xc7);
    vuart_write(&u, UART_MCR, UART_MCR_LOOP);
    vuart_write(&u, UART_IER, UART_IER_RDA | UART_IER_RLS);
    for (unsigned i = 0; i < 16; i++) vuart_write(&u, UART_RBR_THR, (uint8_t)(0x40 + i));
    CHECK_EQ(vuart_room(&u), 0);
    CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_RDA);
    vuart_write(&u, UART_RBR_THR, 0x99);           /* the seventeenth: overrun */
    CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_RLS);   /* line status outranks data */
    CHECK_EQ(vuart_read(&u, UART_LSR) & UART_LSR_OE, UART_LSR_OE);
    CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_RDA);
    for (unsigned i = 0; i < 16; i++) CHECK_EQ(vuart_read(&u, UART_RBR_THR), 0x40 + i);
    CHECK_EQ(iir(&u), UART_IIR_FIFO | UART_IIR_NONE);
    vuart_write(&u, UART_RBR_THR, 1);
    vuart_write(&u, UART_IIR_FCR, 0xc3);           /* clear the receive FIFO */
    CHECK_EQ(vuart_read(&u, UART_LSR) & UART_LSR_DR, 0);
    vuart_write(&u, UART_RBR_THR, 2);
    vuart_write(&u, UART_IIR_FCR, 0x00);           /* FIFOs off: reset as well */
    CHECK_EQ(vuart_read(&u, UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(iir(&u) & UART_IIR_FIFO, 0);
}

TEST(vuart_iir_priority_thre_and_modem_status)
{
    struct vuart u;
    vuart_init(&u);
    vuart_write(&u, UART_IER, UART_IER_THRE | UART_IER_MS | UART_IER_RDA);
    CHECK_EQ(iir(&u), UART_IIR_THRE);             /* enabling THRE with THR empty */
    CHECK_EQ(iir(&u), UART_IIR_NONE);             /* cleared by that read */
    vuart_write(&u, UART_RBR_THR, 'x');
    vuart_receive(&u, 'y');
    CHECK_EQ(iir(&u), UART_IIR_RDA);              /* data outranks THRE */
    vuart_read(&u, UART_RBR_THR);
    CHECK_EQ(iir(&u), UART_IIR_THRE);
    vuart_write(&u, UART_MCR, UART_MCR_LOOP | 0x01);   /* DTR -> DSR; CTS and DCD drop */
    CHECK_EQ(iir(&u), UART_IIR_MS);
    CHECK(vuart_irq(&u));
    CHECK_EQ(vuart_read(&u, UART_MSR), 0x20 | 0x01 | 0x08);   /* DSR held; DCTS, DDCD */
    vuart_write(&u, UART_MCR, UART_MCR_LOOP);          /* DSR drops: DDSR */
    CHECK_EQ(vuart_read(&u, UART_MSR), 0x02);
    vuart_write(&u, UART_MCR, UART_MCR_LOOP | 0x01);
    CHECK_EQ(vuart_read(&u, UART_MSR), 0x22);
    CHECK_EQ(iir(&u), UART_IIR_NONE);
    CHECK(!vuart_irq(&u));
    vuart_write(&u, UART_MCR, UART_MCR_LOOP | 0x05);   /* OUT1 -> RI rises: no TERI yet */
    CHECK_EQ(vuart_read(&u, UART_MSR), 0x60);
    vuart_write(&u, UART_MCR, UART_MCR_LOOP | 0x01);   /* RI falls: TERI */
    CHECK_EQ(vuart_read(&u, UART_MSR), 0x24);
}

/* The virtual 16550A. Transmission is instant: THR is empty again as soon as it is written,
 * so the transmit FIFO never holds anything. The receive side is a 16-byte FIFO (one byte
 * deep with FCR bit 0 clear, as a 16450); a byte arriving at a full receiver sets LSR.OE and
 * is lost in FIFO mode, while in 16450 mode it replaces the unread one (the 16450's RBR is
 * overwritten; QEMU's too), except from the host, which keeps it until there is room. In
 * 16450 mode RBR keeps the last byte received and reads it again when nothing new came. Interrupts in the
 * 16550's priority order: receiver line status (an overrun), received data (at the trigger
 * level; below it, data waiting gives the character timeout at once, since four character
 * times pass instantly here), transmitter empty, modem status. The interrupt output is not
 * gated by MCR.OUT2, like QEMU's 16550. */
#include "supervisor/dev/vuart.h"
#include "lib/string.h"

/* The modem lines MSR shows: in loopback DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; outside
 * it, a terminal that is always there (DCD, DSR, CTS). */
static uint8_t modem_lines(const struct vuart *u)
{
    if (u->mcr & UART_MCR_LOOP)
        return (uint8_t)((u->mcr & 1) << 5 | (u->mcr & 2) << 3 | (u->mcr & 4) << 4 | (u->mcr & 8) << 4);
    return 0xb0;
}

/* Note line changes as MSR deltas: DCTS, DDSR, TERI (RI falling), DDCD. */
static void modem_update(struct vuart *u)
{
    uint8_t now = modem_lines(u), was = u->msr_lines, changed = now ^ was;
    u->msr_delta |= (uint8_t)((changed & 0x10) >> 4 | (changed & 0x20) >> 4 | ((was & ~now) & 0x40) >> 4 |
                              (changed & 0x80) >> 4);
    u->msr_lines = now;
}

/* The state of QEMU's 16550 after reset, which SeaBIOS leaves as it is: LCR 0, MCR OUT2,
 * divisor 12 (9600 baud). */
void vuart_init(struct vuart *u)
{
    memset(u, 0, sizeof *u);
    u->mcr = UART_MCR_OUT2;
    u->dll = 0x0c;
    u->trigger = 1;
    u->msr_lines = modem_lines(u);
}

/* The interrupt with the highest priority that is pending and enabled (an IIR value). */
static uint8_t pending(const struct vuart *u)
{
    if ((u->ier & UART_IER_RLS) && u->overrun) return UART_IIR_RLS;
    if ((u->ier & UART_IER_RDA) && u->rx_count)
        return u->rx_count >= (u->fifo ? u->trigger : 1u) ? UART_IIR_RDA : UART_IIR_TIMEOUT;
    if ((u->ier & UART_IER_THRE) && u->thre_ip) return UART_IIR_THRE;
    if ((u->ier & UART_IER_MS) && u->msr_delta) return UART_IIR_MS;
    return UART_IIR_NONE;
}

bool vuart_irq(const struct vuart *u) { return pending(u) != UART_IIR_NONE; }

unsigned vuart_room(const struct vuart *u) { return (u->fifo ? VUART_FIFO : 1u) - u->rx_count; }

bool vuart_receive(struct vuart *u, uint8_t byte)
{
    if (!vuart_room(u)) return false;
    u->rx[(u->rx_head + u->rx_count++) % VUART_FIFO] = byte;
    if (!u->fifo) u->rbr = byte;
    return true;
}

/* A byte from the loopback: at a full receiver, an overrun that drops it (FIFO mode) or
 * overwrites the unread byte (16450 mode). */
static void loop_receive(struct vuart *u, uint8_t byte)
{
    if (vuart_receive(u, byte)) return;
    u->overrun = true;
    if (!u->fifo) u->rx[u->rx_head] = u->rbr = byte;
}

/* Take the oldest received byte (with none: in 16450 mode the last one, else 0). */
static uint8_t rx_take(struct vuart *u)
{
    if (!u->rx_count) return u->fifo ? 0 : u->rbr;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % VUART_FIFO;
    u->rx_count--;
    return b;
}

uint8_t vuart_read(struct vuart *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR: return dlab ? u->dll : rx_take(u);
    case UART_IER: return dlab ? u->dlm : u->ier;
    case UART_IIR_FCR: {
        uint8_t iir = pending(u);
        if (iir == UART_IIR_THRE) u->thre_ip = false;   /* reading IIR reporting THRE clears it */
        return (uint8_t)(iir | (u->fifo ? UART_IIR_FIFO : 0));
    }
    case UART_LCR: return u->lcr;
    case UART_MCR: return u->mcr;
    case UART_LSR: {
        uint8_t lsr = (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0) |
                                (u->overrun ? UART_LSR_OE : 0));
        u->overrun = false;
        return lsr;
    }
    case UART_MSR: {
        uint8_t msr = (uint8_t)(u->msr_lines | u->msr_delta);
        u->msr_delta = 0;
        return msr;
    }
    default: return u->scr;
    }
}

int vuart_write(struct vuart *u, unsigned reg, uint8_t v)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    int out = -1;
    switch (reg) {
    case UART_RBR_THR:
        if (dlab) { u->dll = v; break; }
        if (u->mcr & UART_MCR_LOOP) {
            loop_receive(u, v);
        } else {
            out = v;
        }
        u->thre_ip = true;              /* sent at once: the holding register is empty again */
        break;
    case UART_IER:
        if (dlab) { u->dlm = v; break; }
        if ((v & UART_IER_THRE) && !(u->ier & UART_IER_THRE)) u->thre_ip = true;
        u->ier = v & 0x0f;
        break;
    case UART_IIR_FCR: {
        static const uint8_t levels[4] = { 1, 4, 8, 14 };
        bool was = u->fifo;
        u->fifo = v & UART_FCR_ENABLE;
        if (u->fifo != was || (v & UART_FCR_CLEAR_RX)) { u->rx_count = 0; u->rx_head = 0; }
        if (u->fifo) u->trigger = levels[v >> 6];
        break;
    }
    case UART_LCR: u->lcr = v; break;
    case UART_MCR:
        u->mcr = v & 0x1f;
        modem_update(u);
        break;
    case UART_SCR: u->scr = v; break;
    default: break;
    }
    return out;
}

/* uart16550: COM1 probed and driven the way Linux's and the BSDs' 8250 drivers do it.
 *
 * The state the firmware leaves; the scratch register; the IER test; the loopback test (MCR
 * bit 4: the modem outputs come back on MSR's inputs); FIFO detection through IIR bits 6-7
 * after FCR, the 16750 64-byte probe; the FIFO size counted in loopback; the divisor latch
 * written and read back; LSR data-ready and overrun in 16450 and 16550 modes (and what RBR
 * holds then); the interrupt identification and its priorities; then output driven by the
 * transmitter-empty interrupt on IRQ4 through the 8259, and received-data interrupts in
 * loopback, with the place each interrupt was taken.
 */
#include "sys.h"

#define COM 0x3f8
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static uint8_t rd(unsigned r) { return inb((uint16_t)(COM + r)); }
static void wr(unsigned r, uint8_t v) { outb((uint16_t)(COM + r), v); }

static void heading(const char *s)
{
    con_puts("== ");
    con_puts(s);
    con_putc('\n');
}

/* The registers as the firmware left them (read before anything is written). */
static void reset_state(void)
{
    uint8_t lcr = rd(LCR), mcr = rd(MCR), ier = rd(IER), iir = rd(IIR), lsr = rd(LSR), msr = rd(MSR), scr = rd(SCR);
    wr(LCR, (uint8_t)(lcr | 0x80));
    uint8_t dll = rd(DLL), dlm = rd(DLM);
    wr(LCR, lcr);
    heading("as the firmware left it");
    expect("LCR", lcr, 0x00);
    expect("MCR", mcr, 0x08);
    expect("IER", ier, 0x00);
    expect("IIR", iir, 0x01);
    expect("LSR", lsr, 0x60);
    expect("MSR", msr, 0xb0);
    expect("SCR", scr, 0x00);
    expect("divisor", (uint32_t)dlm << 8 | dll, 0x000c);
}

static void scratch(void)
{
    heading("scratch register");
    static const uint8_t pat[] = { 0x55, 0xaa, 0x00, 0xff, 0x5a };
    for (unsigned i = 0; i < sizeof pat; i++) {
        wr(SCR, pat[i]);
        expect("SCR after write", rd(SCR), pat[i]);
    }
}

/* Linux's autoconfig: IER is 4 bits; the loopback test wants DCD+CTS back for OUT2+RTS. */
static void probe(void)
{
    heading("probe");
    uint8_t save_ier = rd(IER);
    wr(IER, 0);
    uint8_t s2 = rd(IER) & 0x0f;
    wr(IER, 0x0f);
    uint8_t s3 = rd(IER);
    wr(IER, 0xff);
    uint8_t s4 = rd(IER);
    wr(IER, save_ier);
    expect("IER after 00", s2, 0x00);
    expect("IER after 0f", s3, 0x0f);
    expect("IER after ff", s4, 0x0f);

    uint8_t save_mcr = rd(MCR);
    uint8_t msr[16], mcr_back[2];
    wr(MCR, 0x10 | 0x0a);                        /* loopback, RTS, OUT2 */
    uint8_t status1 = rd(MSR) & 0xf0;
    mcr_back[0] = rd(MCR);
    for (unsigned i = 0; i < 16; i++) {
        wr(MCR, (uint8_t)(0x10 | i));
        msr[i] = rd(MSR) & 0xf0;                 /* the change bits: see below */
    }
    wr(MCR, 0xff);
    mcr_back[1] = rd(MCR);
    wr(MCR, save_mcr);
    (void)rd(MSR);
    expect("loopback MSR for RTS+OUT2", status1, 0x90);
    expect("MCR read back in loopback", mcr_back[0], 0x1a);
    expect("MCR after ff", mcr_back[1], 0x1f);
    for (unsigned i = 0; i < 16; i++) {
        /* DTR -> DSR (bit 5), RTS -> CTS (4), OUT1 -> RI (6), OUT2 -> DCD (7). */
        uint8_t want = (uint8_t)((i & 1) << 5 | (i & 2) << 3 | (i & 4) << 4 | (i & 8) << 4);
        con_puts("  MCR ");
        con_hex(0x10 | i, 2);
        expect(" -> MSR", msr[i], want);
    }
    expect("MSR out of loopback", rd(MSR) & 0xf0, 0xb0);

    /* FIFO detection. */
    wr(FCR, 0x01);
    uint8_t t1 = rd(IIR) >> 6;
    wr(FCR, 0x00);
    uint8_t t0 = rd(IIR) >> 6;
    wr(LCR, 0xbf);                               /* the EFR probe: a 16550A has none */
    uint8_t efr = rd(IIR);
    wr(LCR, 0x00);
    wr(FCR, 0x21);                               /* the 16750 probe: 64-byte FIFO bit */
    uint8_t st1 = rd(IIR) >> 5;
    wr(FCR, 0x01);
    wr(LCR, 0x80);
    wr(FCR, 0x21);
    uint8_t st2 = rd(IIR) >> 5;
    wr(LCR, 0x00);
    wr(FCR, 0xc7);
    uint8_t deep = rd(IIR);
    wr(FCR, 0x00);
    wr(LCR, 0x03);
    expect("IIR>>6 with FIFO enabled (3: 16550A)", t1, 3);
    expect("IIR>>6 with FIFO off", t0, 0);
    expect("offset 2 with LCR bf (no EFR)", efr, 0x01);
    expect("IIR>>5 after FCR 21", st1, 6);
    expect("IIR>>5 after FCR 21 with DLAB", st2, 6);
    expect("IIR after FCR c7", deep, 0xc1);
}

/* Linux's size_fifo: fill the FIFO in loopback at full speed and count what comes back. */
static void fifo_size(void)
{
    heading("FIFO size in loopback");
    uint8_t old_lcr = rd(LCR);
    wr(FCR, 0x07);
    wr(MCR, 0x10);
    wr(LCR, 0x80);
    uint8_t dl = rd(DLL), dh = rd(DLM);
    wr(DLL, 0x01);
    wr(DLM, 0x00);
    wr(LCR, 0x03);
    for (unsigned i = 0; i < 256; i++) wr(THR, (uint8_t)i);
    udelay(20000);
    uint8_t lsr = rd(LSR);
    unsigned count = 0, sum = 0;
    while ((rd(LSR) & 0x01) && count < 256) { sum += rd(RBR); count++; }
    wr(LCR, 0x80);
    wr(DLL, dl);
    wr(DLM, dh);
    wr(LCR, old_lcr);
    wr(FCR, 0x00);
    wr(MCR, 0x0b);
    wr(LCR, 0x03);
    expect("LSR after 256 bytes (DR, OE, THRE, TEMT)", lsr, 0x63);
    expect("bytes that came back", count, 16);
    expect("their sum (0..15)", sum, 120);
}

static void divisor(void)
{
    heading("divisor latch");
    static const uint16_t div[] = { 0x0001, 0x000c, 0x1234, 0xff00, 0x0060 };
    uint8_t got[5][2];
    for (unsigned i = 0; i < 5; i++) {
        wr(LCR, 0x83);
        wr(DLL, (uint8_t)div[i]);
        wr(DLM, (uint8_t)(div[i] >> 8));
        got[i][0] = rd(DLL);
        got[i][1] = rd(DLM);
        wr(LCR, 0x03);
    }
    wr(LCR, 0x83);
    wr(DLL, 0x01);
    wr(DLM, 0x00);
    uint8_t lcr_dlab = rd(LCR);
    wr(LCR, 0x03);
    for (unsigned i = 0; i < 5; i++) expect("divisor read back", (uint32_t)got[i][1] << 8 | got[i][0], div[i]);
    expect("LCR with DLAB", lcr_dlab, 0x83);
    expect("IER (DLAB off again)", rd(IER), 0x00);
    wr(LCR, 0x1b);                               /* 8 bits, 1 stop, even parity */
    expect("LCR 1b", rd(LCR), 0x1b);
    wr(LCR, 0x03);
}

/* Data ready and overrun; what RBR holds. */
static void line_status(void)
{
    heading("LSR and RBR");
    uint8_t v[16];
    wr(MCR, 0x10);
    wr(FCR, 0x00);                               /* 16450 mode */
    v[0] = rd(LSR);
    wr(THR, 'x');
    v[1] = rd(LSR);
    v[2] = rd(RBR);
    v[3] = rd(LSR);
    wr(THR, 'a');
    wr(THR, 'b');                                /* overruns the one-byte receiver */
    v[4] = rd(LSR);
    v[5] = rd(LSR);
    v[6] = rd(RBR);
    v[7] = rd(LSR);
    v[11] = rd(RBR);
    wr(FCR, 0x07);                               /* 16550 mode: 16 bytes, the 17th lost */
    for (unsigned i = 0; i < 17; i++) wr(THR, (uint8_t)('A' + i));
    v[8] = rd(LSR);
    v[9] = rd(LSR);
    char s[18];
    unsigned n = 0;
    while ((rd(LSR) & 1) && n < 17) s[n++] = (char)rd(RBR);
    s[n] = 0;
    v[10] = rd(LSR);
    wr(FCR, 0x00);
    wr(MCR, 0x0b);
    expect("LSR idle", v[0], 0x60);
    expect("LSR after a byte in loopback", v[1], 0x61);
    expect("RBR", v[2], 'x');
    expect("LSR after reading it", v[3], 0x60);
    expect("LSR after two bytes (overrun)", v[4], 0x63);
    expect("LSR read again (OE cleared)", v[5], 0x61);
    expect("RBR after the overrun (the newer byte)", v[6], 'b');
    expect("LSR", v[7], 0x60);
    expect("RBR read again, nothing new (a 16450 keeps it)", v[11], 'b');
    expect("LSR after 17 bytes in FIFO mode", v[8], 0x63);
    expect("LSR again", v[9], 0x61);
    con_puts("FIFO held: ");
    con_puts(s);
    con_putc('\n');
    expect("bytes", n, 16);
    expect("LSR after draining", v[10], 0x60);
}

/* IIR and its priorities (polled: IRQ4 is masked at the 8259). */
static void ident(void)
{
    heading("interrupt identification");
    uint8_t v[16];
    wr(MCR, 0x10);
    wr(FCR, 0x07);
    v[0] = rd(IIR);
    wr(IER, 0x02);                               /* THRE: pending at once, the holding register is empty */
    v[1] = rd(IIR);
    v[2] = rd(IIR);                              /* reading IIR cleared it */
    wr(IER, 0x00);
    wr(IER, 0x02);                               /* enabling it again raises it again */
    v[3] = rd(IIR);
    wr(LCR, 0x83);                               /* 1200 baud: four characters take 33 ms */
    wr(DLL, 0x60);
    wr(DLM, 0x00);
    wr(LCR, 0x03);
    wr(IER, 0x07);                               /* + received data, line status */
    wr(FCR, 0x47);                               /* trigger level 4 */
    for (unsigned i = 0; i < 3; i++) wr(THR, (uint8_t)('0' + i));
    /* Below the trigger: the character timeout, after four character times (33 ms). Waited
     * for up to two seconds: a loaded host may run the UART's timer late. */
    udelay(40000);
    for (unsigned ms = 0; ms < 2000 && (rd(IIR) & 0x0f) != 0x0c; ms++) udelay(1000);
    v[4] = rd(IIR);
    while (rd(LSR) & 1) (void)rd(RBR);
    for (unsigned i = 0; i < 4; i++) wr(THR, (uint8_t)('0' + i));
    v[5] = rd(IIR);                              /* at the trigger level */
    for (unsigned i = 0; i < 13; i++) wr(THR, (uint8_t)('a' + i));   /* 17 sent: overrun */
    v[6] = rd(IIR);                              /* line status comes first */
    v[7] = rd(LSR);
    v[8] = rd(IIR);
    unsigned n = 0;
    while (rd(LSR) & 1) { (void)rd(RBR); n++; }
    v[9] = rd(IIR);                              /* the THRE of the last write is left */
    v[10] = rd(IIR);
    wr(IER, 0x00);
    wr(FCR, 0x00);
    wr(MCR, 0x0b);
    wr(LCR, 0x83);
    wr(DLL, 0x0c);
    wr(LCR, 0x03);
    v[11] = rd(IIR);
    expect("IIR idle with FIFO", v[0], 0xc1);
    expect("IIR with THRE enabled", v[1], 0xc2);
    expect("IIR read again", v[2], 0xc1);
    expect("IIR after IER 00, 02", v[3], 0xc2);
    expect("IIR, 3 bytes below trigger 4, some time later", v[4], 0xcc);
    expect("IIR at the trigger level", v[5], 0xc4);
    expect("IIR after an overrun", v[6], 0xc6);
    expect("LSR", v[7], 0x63);
    expect("IIR after reading LSR", v[8], 0xc4);
    expect("bytes drained", n, 16);
    expect("IIR after draining", v[9], 0xc2);
    expect("IIR read again", v[10], 0xc1);
    expect("IIR with FIFO off", v[11], 0x01);
}

/* IRQ4 requests the 8259 latched while IRQ4 was masked (the tests above raised the line):
 * taken in a short window with interrupts on, before the interrupt-driven tests. */
static unsigned stale;
static uint8_t stale_iir;

static void stale_irq(struct regs *r)
{
    (void)r;
    stale_iir = rd(IIR);
    stale++;
    eoi(4);
}

static void drain_irq4(void)
{
    stale = 0;
    outb(0x20, 0x0a);
    uint8_t irr = inb(0x20) & 0x10;
    on_irq(4, stale_irq);
    pic_unmask(4);
    __asm__ volatile("sti\n nop\n nop\n cli" ::: "memory");
    pic_mask_all();
    expect("IRR bit 4 (an edge seen while masked)", irr, 0x10);
    expect("interrupts taken when unmasked", stale, 1);
    expect("its IIR (nothing pending any more)", stale_iir, 0x01);
}

/* Output driven by the THRE interrupt: the handler sends up to `burst` bytes each time the
 * holding register (or FIFO) is empty, and turns THRE off when the message is out. */
static const char *tx_msg;
static unsigned tx_pos, tx_irqs, tx_other, tx_burst;
static uint8_t tx_iir;
static volatile bool tx_done;

static void tx_irq(struct regs *r)
{
    (void)r;
    uint8_t iir = rd(IIR);
    if ((iir & 0x0f) != 0x02) {
        tx_other++;
    } else {
        tx_iir = iir;
        tx_irqs++;
        if (!tx_msg[tx_pos]) {
            wr(IER, 0x00);
            tx_done = true;
        }
        for (unsigned i = 0; i < tx_burst && tx_msg[tx_pos]; i++) wr(THR, (uint8_t)tx_msg[tx_pos++]);
    }
    eoi(4);
}

static void interrupt_output(const char *msg, bool fifo, unsigned burst)
{
    tx_msg = msg;
    tx_pos = tx_irqs = tx_other = 0;
    tx_burst = burst;
    tx_done = false;
    wr(MCR, 0x0b);
    wr(FCR, fifo ? 0x07 : 0x00);
    (void)rd(IIR);
    on_irq(4, tx_irq);
    pic_unmask(4);
    wr(IER, 0x02);                        /* THRE: the holding register is empty, IRQ4 rises */
    while (!tx_done) __asm__ volatile("sti\n hlt\n cli" ::: "memory");
    pic_mask_all();
    wr(FCR, 0x00);
    unsigned n = 0;
    while (msg[n]) n++;
    expect("THRE interrupts", tx_irqs, (n + burst - 1) / burst + 1);
    expect("other interrupts", tx_other, 0);
    expect("last IIR", tx_iir, fifo ? 0xc2 : 0x02);
    expect("IER at the end", rd(IER), 0x00);
    expect("IIR at the end", rd(IIR), 0x01);
}

/* Received-data interrupts in loopback: each byte is sent when the transmitter is empty
 * and the previous one has been taken by the interrupt handler. */
static char rx_buf[32];
static volatile unsigned rx_n;
static unsigned rx_irqs, rx_other;
static uint8_t rx_iir;

static void rx_irq(struct regs *r)
{
    (void)r;
    uint8_t iir = rd(IIR);
    if ((iir & 0x07) != 0x04) rx_other++;         /* received data, or its timeout */
    else { rx_iir = iir; rx_irqs++; }
    while ((rd(LSR) & 1) && rx_n < sizeof rx_buf - 1) rx_buf[rx_n++] = (char)rd(RBR);
    eoi(4);
}

static void interrupt_input(bool fifo)
{
    static const char msg[] = "Quiet loopback";
    unsigned lost = 0;
    rx_n = rx_irqs = rx_other = 0;
    wr(MCR, 0x18);                       /* loopback, OUT2 */
    wr(FCR, fifo ? 0x07 : 0x00);
    wr(IER, 0x01);
    on_irq(4, rx_irq);
    pic_unmask(4);
    __asm__ volatile("sti" ::: "memory");
    for (unsigned i = 0; msg[i]; i++) {
        while (!(rd(LSR) & 0x20)) { }
        wr(THR, (uint8_t)msg[i]);
        unsigned spin = 0;
        while (rx_n <= i && spin < 10000000) spin++;
        if (rx_n <= i) lost++;
    }
    __asm__ volatile("cli" ::: "memory");
    pic_mask_all();
    wr(IER, 0x00);
    wr(FCR, 0x00);
    wr(MCR, 0x0b);
    rx_buf[rx_n] = 0;
    con_puts("received: ");
    con_puts(rx_buf);
    con_putc('\n');
    expect("bytes not taken in time", lost, 0);
    expect("received-data interrupts", rx_irqs, sizeof msg - 1);
    expect("other interrupts", rx_other, 0);
    expect("last IIR (timeout bit masked)", rx_iir & 0xf7, fifo ? 0xc4 : 0x04);
}

int guest_main(void);
int guest_main(void)
{
    sys_init();
    con_puts("uart16550: COM1 as the 8250 drivers see it\n");
    reset_state();
    wr(LCR, 0x03);
    scratch();
    probe();
    fifo_size();
    divisor();
    line_status();
    ident();
    heading("IRQ4 through the 8259");
    drain_irq4();
    heading("THRE interrupt output, 16450 mode, one byte each");
    interrupt_output("sent one byte per THRE interrupt on IRQ4\n", false, 1);
    heading("THRE interrupt output, FIFO, 16 bytes each");
    interrupt_output("sent up to sixteen bytes per THRE interrupt, with the FIFOs on\n", true, 16);
    heading("received-data interrupts in loopback");
    interrupt_input(false);
    interrupt_input(true);
    con_puts("failures: ");
    con_dec(nfail);
    con_putc('\n');
    return nfail > 100 ? 100 : (int)nfail;
}

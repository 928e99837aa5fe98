/* The i8042 keyboard controller of a PC on which no key is pressed: status bits, self and
 * interface tests, the command byte, disabling and enabling the ports, the output port,
 * bytes written into the output buffer, keyboard command replies, IRQ1; and port 0x80. With the word
 * `reset` on its command line it pulses the reset line instead (tests/qemu/t_vm.py): the
 * machine must end there. The mouse is left alone: QEMU's PC has one, umbra's has none. */
#include "tests/guests/lib/guest.h"

#define DATA 0x60
#define STAT 0x64

struct mbi { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline; };

/* Wait (boundedly) for the output buffer, then read it; 0x100 when nothing came. */
static unsigned reply(void)
{
    for (unsigned i = 0; i < 1000000; i++)
        if (inb(STAT) & 0x01) return inb(DATA);
    return 0x100;
}

/* Wait until the controller can take a byte. */
static void ready(void) { for (unsigned i = 0; i < 1000000 && (inb(STAT) & 0x02); i++) ; }
static void ccmd(uint8_t c) { ready(); outb(STAT, c); }
static void kdata(uint8_t v) { ready(); outb(DATA, v); }

/* Read everything waiting (what the BIOS left). */
static void flush(void) { for (unsigned i = 0; i < 64 && (inb(STAT) & 0x01); i++) (void)inb(DATA); }

static volatile unsigned irqs;
static volatile uint8_t irq_byte;
static void on_irq1(struct gframe *f)
{
    (void)f;
    irq_byte = inb(DATA);
    irqs++;
    pic_eoi(1);
}

/* Is `word` one of the words of the command line? */
static bool has_word(const char *s, const char *word)
{
    unsigned n = strlen(word);
    for (const char *p = s; *p; p++)
        if ((p == s || p[-1] == ' ') && !memcmp(p, word, n) && (p[n] == ' ' || !p[n])) return true;
    return false;
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    tables_init();
    pic_init();
    const struct mbi *m = (const struct mbi *)mbi;
    if ((m->flags & 4) && has_word((const char *)m->cmdline, "reset")) {
        gprintf("kbd: pulsing the reset line\n");
        ccmd(0xfe);
        for (unsigned i = 0; i < 10000000; i++) (void)inb(0x80);
        gprintf("kbd: still running after the reset pulse\n");
        return 1;
    }

    ccmd(0xad);                                  /* keyboard off while the state is set up */
    flush();
    uint8_t st = inb(STAT);
    check_eq(st & 0x03, 0x00, "status: output and input buffers empty");
    check_eq(st & 0x04, 0x04, "status: system flag (POST passed)");
    ccmd(0xaa);
    check_eq(reply(), 0x55, "self test 0xaa: 0x55");
    ccmd(0xab);
    check_eq(reply(), 0x00, "keyboard interface test 0xab: 0x00");

    ccmd(0x60); kdata(0x44);                     /* translation, system flag, no interrupts */
    ccmd(0x20);
    check_eq(reply(), 0x44, "command byte written and read back");
    ccmd(0xad); ccmd(0x20);
    check_eq(reply() & 0x10, 0x10, "0xad: keyboard port disabled in the command byte");
    ccmd(0xae); ccmd(0x20);
    check_eq(reply() & 0x10, 0x00, "0xae: enabled again");
    ccmd(0xa7); ccmd(0x20);
    check_eq(reply() & 0x20, 0x20, "0xa7: mouse port disabled");
    ccmd(0xa8); ccmd(0x20);
    check_eq(reply() & 0x20, 0x00, "0xa8: enabled again");
    ccmd(0xd0);
    check_eq(reply() & 0x03, 0x03, "output port: reset line high, A20 on");
    ccmd(0xd2); kdata(0x5a);
    st = inb(STAT);
    check_eq(st & 0x21, 0x01, "0xd2: a byte in the output buffer, from the keyboard port");
    check_eq(reply(), 0x5a, "0xd2: the byte written");
    check_eq(inb(STAT) & 0x01, 0x00, "output buffer empty once read");

    kdata(0xee);
    check_eq(reply(), 0xee, "keyboard echo 0xee");
    kdata(0xf2);
    unsigned a = reply(), b = reply(), c = reply();
    check(a == 0xfa && b == 0xab && c == 0x41, "keyboard identify: 0xfa 0xab 0x41 (translated)");
    kdata(0xed);
    a = reply();
    kdata(0x00);
    check(a == 0xfa && reply() == 0xfa, "set LEDs: acknowledged twice");
    kdata(0xf4);
    check_eq(reply(), 0xfa, "keyboard enable 0xf4: acknowledged");
    kdata(0xff);
    a = reply();
    check(a == 0xfa && reply() == 0xaa, "keyboard reset 0xff: 0xfa then 0xaa");

    /* IRQ1 with the command byte's interrupt bit: one per byte. */
    set_handler(0x21, on_irq1, 0, false);
    pic_mask(0xfffd);
    ccmd(0x60); kdata(0x45);
    irqs = 0;
    kdata(0xee);
    for (unsigned i = 0; i < 1000000 && !irqs; i++) { __asm__ volatile("sti; nop; cli"); (void)inb(0x80); }
    check_eq(irqs, 1, "IRQ1 for the echo");
    check_eq(irq_byte, 0xee, "the handler read the echo");
    /* No key is pressed: nothing more arrives. */
    for (unsigned i = 0; i < 20000; i++) { __asm__ volatile("sti; nop; cli"); (void)inb(0x80); }
    check_eq(irqs, 1, "no further interrupt: no key pressed");
    check_eq(inb(STAT) & 0x01, 0, "output buffer stays empty");
    pic_mask(0xffff);

    /* Port 0x80, the POST code port kernels write to for a short delay: a sink. */
    outb(0x80, 0x42);
    check_eq(inb(0x80), 0xff, "port 0x80: written, reads 0xff");
    return summary("kbd");
}

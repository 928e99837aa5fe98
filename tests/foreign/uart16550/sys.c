/* uart16550 guest: console, IDT, 8259 setup, PIT delays. */
#include "sys.h"

unsigned nfail;

void con_putc(char c)
{
    while (!(inb(0x3fd) & 0x20)) { }
    outb(0x3f8, (uint8_t)c);
}

void con_puts(const char *s) { while (*s) con_putc(*s++); }

void con_hex(uint32_t v, unsigned digits)
{
    while (digits--) con_putc("0123456789abcdef"[(v >> (digits * 4)) & 15]);
}

void con_dec(uint32_t v)
{
    char b[10];
    unsigned n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) con_putc(b[--n]);
}

void expect(const char *label, uint32_t got, uint32_t want)
{
    unsigned digits = want > 0xffff || got > 0xffff ? 8 : want > 0xff || got > 0xff ? 4 : 2;
    con_puts(label);
    con_puts(": ");
    con_hex(got, digits);
    if (got != want) {
        con_puts(" (expected ");
        con_hex(want, digits);
        con_putc(')');
        nfail++;
    }
    con_putc('\n');
}

extern const uint32_t vec_table[48];
static uint64_t idt[48];
static irq_fn handlers[16];

void isr_dispatch(struct regs *r);
void isr_dispatch(struct regs *r)
{
    if (r->vec >= 0x20 && r->vec < 0x30 && handlers[r->vec - 0x20]) {
        handlers[r->vec - 0x20](r);
        return;
    }
    con_puts("unexpected vector ");
    con_hex(r->vec, 2);
    con_puts(" at ");
    con_hex(r->eip, 8);
    con_putc('\n');
    outb(0xf4, 0x7f);
    for (;;) { }
}

void on_irq(unsigned n, irq_fn fn) { handlers[n] = fn; }

void pic_mask_all(void)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

void pic_unmask(unsigned n)
{
    uint16_t port = n < 8 ? 0x21 : 0xa1;
    outb(port, inb(port) & (uint8_t)~(1u << (n & 7)));
    if (n >= 8) outb(0x21, inb(0x21) & (uint8_t)~4u);
}

void eoi(unsigned irq)
{
    if (irq >= 8) outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

void sys_init(void)
{
    static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gd = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n ljmp $8, $1f\n 1: mov $16, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n"
                     " mov %%ax, %%ss\n mov %%ax, %%fs\n mov %%ax, %%gs" :: "m"(gd) : "eax", "memory");
    for (unsigned i = 0; i < 48; i++)
        idt[i] = (vec_table[i] & 0xffff) | (8ull << 16) | (0x8eull << 40) | ((uint64_t)(vec_table[i] >> 16) << 48);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) id = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(id));
    /* ICW1-4 on both chips: edge, cascade, vectors 0x20 and 0x28, 8086 mode. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    pic_mask_all();
}

void udelay(uint32_t us)
{
    while (us) {
        uint32_t chunk = us > 50000 ? 50000 : us, ticks = chunk * 1193 / 1000 + 1;
        outb(0x61, (inb(0x61) & 0x0c) | 0x01);          /* gate on, speaker off */
        outb(0x43, 0xb0);                                 /* channel 2, lo/hi, mode 0 */
        outb(0x42, (uint8_t)ticks);
        outb(0x42, (uint8_t)(ticks >> 8));
        while (!(inb(0x61) & 0x20)) { }
        us -= chunk;
    }
}

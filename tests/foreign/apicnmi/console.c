/* apicos: COM1 output, a small printf, the IDT and the interrupt dispatcher. */
#include <stdarg.h>
#include "hw.h"

unsigned failures;

void kputc(char c)
{
    if (c == '\n') kputc('\r');
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
}

static void put_num(uint32_t v, unsigned base, int width, char pad)
{
    char buf[12];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    while (n < width) { kputc(pad); width--; }
    while (n) kputc(buf[--n]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { kputc(*fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': {
            int32_t d = va_arg(ap, int32_t);
            if (d < 0) { kputc('-'); d = -d; }
            put_num((uint32_t)d, 10, width, pad);
            break;
        }
        case 'u': put_num(va_arg(ap, uint32_t), 10, width, pad); break;
        case 'x': put_num(va_arg(ap, uint32_t), 16, width, pad); break;
        case 'c': kputc((char)va_arg(ap, int)); break;
        case 's': for (const char *s = va_arg(ap, const char *); *s; s++) kputc(*s); break;
        case '%': kputc('%'); break;
        default: kputc('?'); break;
        }
    }
    va_end(ap);
}

void expect(bool ok, const char *what)
{
    if (ok) return;
    failures++;
    kprintf("FAIL: %s\n", what);
}

/* ---- the IDT ---- */

struct gate { uint16_t off_lo, sel; uint8_t zero, type; uint16_t off_hi; } __attribute__((packed));
static struct gate idt[256];
static handler_t handlers[256];
extern const uint32_t vec_table[256];

volatile uint32_t vcount[256];
volatile uint8_t vlog[64];
volatile uint32_t vlog_n;

void vlog_reset(void) { vlog_n = 0; }

void vlog_print(const char *what)
{
    kprintf("%s:", what);
    for (uint32_t i = 0; i < vlog_n && i < 64; i++) kprintf(" %02x", vlog[i]);
    kprintf("%s\n", vlog_n ? "" : " (none)");
}

void set_handler(unsigned vector, handler_t h) { handlers[vector] = h; }

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        idt[v].off_lo = (uint16_t)vec_table[v];
        idt[v].off_hi = (uint16_t)(vec_table[v] >> 16);
        idt[v].sel = 0x08;
        idt[v].zero = 0;
        idt[v].type = 0x8e;           /* interrupt gate: IF clear in every handler */
    }
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void intr_entry(struct frame *f);
void intr_entry(struct frame *f)
{
    unsigned v = f->vector & 0xff;
    vcount[v]++;
    if (v == V_FENCE) { lapic_eoi(); return; }
    if (vlog_n < 64) vlog[vlog_n] = (uint8_t)v;
    vlog_n++;
    if (handlers[v]) { handlers[v](f); return; }
    if (v < 32) {
        kprintf("FAIL: exception %u error %x at eip %x\n", v, f->error, f->eip);
        outb(0xf4, 0x7f);
        for (;;) __asm__ volatile("cli; hlt");
    }
    /* Anything else unexpected: counted above, ended at the local APIC if it is in service
     * there (a stray vector from the 8259 would not be). */
    if (lapic_bit(L_ISR, v)) lapic_eoi();
}

void halt_until(volatile uint32_t *flag, uint32_t want)
{
    cli();
    while (*flag < want) __asm__ volatile("sti; hlt; cli" ::: "memory");
}

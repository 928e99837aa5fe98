/* uart16550 guest: port access, console, interrupt plumbing. */
#ifndef UART16550_SYS_H
#define UART16550_SYS_H
#include <stdint.h>
#include <stdbool.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct regs { uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax, vec, err, eip, cs, eflags; };

/* Console on COM1, polled (only while the UART is in a printable state). */
void con_putc(char c);
void con_puts(const char *s);
void con_hex(uint32_t v, unsigned digits);
void con_dec(uint32_t v);
/* "label value", a mismatch marked and counted. */
void expect(const char *label, uint32_t got, uint32_t want);
extern unsigned nfail;

/* IDT with interrupt gates for 0-47; the 8259s at 0x20 and 0x28, everything masked. */
void sys_init(void);
/* Handler for IRQ n (0-15), called with the frame; it sends its own EOI. */
typedef void (*irq_fn)(struct regs *r);
void on_irq(unsigned n, irq_fn fn);
void pic_unmask(unsigned n);
void pic_mask_all(void);
void eoi(unsigned irq);

/* Busy-wait us microseconds on PIT channel 2 (gate through port 0x61, mode 0). */
void udelay(uint32_t us);

#endif

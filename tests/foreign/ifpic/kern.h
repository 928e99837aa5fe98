/* The ifpic guest's small kernel: COM1 output, descriptor tables, traps, ring 3. */
#ifndef IFPIC_KERN_H
#define IFPIC_KERN_H
#include <stdint.h>
#include <stdbool.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }

/* The trap frame trap_common builds. */
struct frame {
    uint32_t es, ds, edi, esi, ebp, esp0, ebx, edx, ecx, eax, vec, err, eip, cs, eflags, uesp, uss;
};

/* Probes in entry.asm: on a fault they return with fault_hit set and fault_vec/err/eip. */
extern volatile uint32_t fault_fixup, fault_hit, fault_vec, fault_err, fault_eip, fault_cr2;
uint32_t pin(uint32_t port, uint32_t size);
void pout(uint32_t port, uint32_t size, uint32_t value);
void pcli(void);
void pltr(uint32_t sel);
void psti(void);
uint32_t u_pushf(void);
uint32_t u_popf_pushf(uint32_t flags);
uint32_t to_user(void (*fn)(void), uint32_t eflags, uint32_t esp);
extern const uint32_t stub_table[256];
extern uint8_t ring0_stack_top[];

/* Output. */
void putc(char c);
void puts(const char *s);
void hex(uint32_t v, int digits);
void dec(uint32_t v);
/* One transcript line: "label value" (value in hex, `digits` wide); a mismatch with want is
 * marked and counted. */
void show(const char *label, uint32_t got, int digits, uint32_t want);
extern unsigned failures;

/* Descriptor tables. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b
#define SEL_UDATA 0x23
#define SEL_TSS   0x28
#define SEL_FS1K  0x30     /* data, base 0x1000 */
void tables_init(void);
/* Load TR with a TSS at linear `base`, its limit `limit`, I/O map base `iomap`. */
void tss_load(uint32_t base, uint32_t limit, uint16_t iomap);

/* IRQ n (0-15, vectors 0x20-0x2f) calls fn with the frame; it sends its own EOI. */
typedef void (*irq_fn)(struct frame *f);
void on_irq(unsigned irq, irq_fn fn);
/* EFLAGS as the handlers of INT 0x40 (trap gate) and 0x41 (interrupt gate) found them. */
extern uint32_t gate_flags[2];

/* Run fn at CPL3 with IOPL iopl (IF set); it ends with user_exit(). */
void run_user(void (*fn)(void), unsigned iopl);
__attribute__((noreturn)) void user_exit(void);
extern uint32_t user_flags;     /* EFLAGS in the frame of the INT 0x80 that ended it */

#endif

/* apicos: the small hardware layer every part of the kernel shares. */
#ifndef APICOS_HW_H
#define APICOS_HW_H

#include <stdint.h>
#include <stdbool.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

/* Memory at a physical address (paging stays off in this kernel). */
/* The address goes through an empty asm so the compiler sees no object at a constant address. */
static inline volatile void *phys(uint32_t a) { void *p; __asm__("" : "=r"(p) : "0"(a)); return p; }
static inline uint8_t  peek8(uint32_t a)  { return *(volatile uint8_t *)phys(a); }
static inline uint16_t peek16(uint32_t a) { return *(volatile uint16_t *)phys(a); }
static inline uint32_t peek32(uint32_t a) { return *(volatile uint32_t *)phys(a); }
static inline void poke8(uint32_t a, uint8_t v) { *(volatile uint8_t *)phys(a) = v; }
static inline void poke16(uint32_t a, uint16_t v) { *(volatile uint16_t *)phys(a) = v; }

/* console.c */
void kputc(char c);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record a check: prints "FAIL: what" and counts it when ok is false. */
void expect(bool ok, const char *what);
extern unsigned failures;

/* Interrupt frame built by start.asm: PUSHAD's registers, then vector and error code. */
struct frame {
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};
typedef void (*handler_t)(struct frame *f);
void idt_init(void);
void set_handler(unsigned vector, handler_t h);

/* Let interrupts waiting for the CPU in: a short window with IF set. */
static inline void irq_window(void) { __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory"); }
/* Wait with HLT, interrupts enabled, until *flag reaches want (IF is clear again after). */
void halt_until(volatile uint32_t *flag, uint32_t want);

/* pit.c: channel 2 (gated through port 0x61) as a stopwatch; no interrupts. */
void pit2_start(uint16_t count);
bool pit2_done(void);
void pit_delay_us(uint32_t us);

/* The local APIC's registers. */
#define LAPIC 0xfee00000u
static inline uint32_t lapic_rd(uint32_t off) { return *(volatile uint32_t *)(LAPIC + off); }
static inline void lapic_wr(uint32_t off, uint32_t v) { *(volatile uint32_t *)(LAPIC + off) = v; }
enum {
    L_ID = 0x20, L_VER = 0x30, L_TPR = 0x80, L_APR = 0x90, L_PPR = 0xa0, L_EOI = 0xb0,
    L_LDR = 0xd0, L_DFR = 0xe0, L_SVR = 0xf0, L_ISR = 0x100, L_TMR = 0x180, L_IRR = 0x200,
    L_ESR = 0x280, L_ICRLO = 0x300, L_ICRHI = 0x310, L_LVTT = 0x320, L_LVTTHM = 0x330,
    L_LVTPC = 0x340, L_LINT0 = 0x350, L_LINT1 = 0x360, L_LVTERR = 0x370, L_TINIT = 0x380,
    L_TCUR = 0x390, L_TDCR = 0x3e0,
};
static inline bool lapic_bit(uint32_t base, unsigned v) { return (lapic_rd(base + (v >> 5) * 0x10) >> (v & 31)) & 1; }
static inline void lapic_eoi(void) { lapic_wr(L_EOI, 0); }

/* The I/O APIC (its address as the firmware tables give it). */
extern uint32_t ioapic_base;
static inline uint32_t ioapic_rd(uint8_t reg)
{
    *(volatile uint32_t *)ioapic_base = reg;
    return *(volatile uint32_t *)(ioapic_base + 0x10);
}
static inline void ioapic_wr(uint8_t reg, uint32_t v)
{
    *(volatile uint32_t *)ioapic_base = reg;
    *(volatile uint32_t *)(ioapic_base + 0x10) = v;
}

/* What the firmware tables said (firmware.c). */
struct platform {
    bool mp_found, acpi_found;
    uint32_t lapic_addr, ioapic_addr;
    uint8_t ioapic_id;
    uint8_t irq_pin[16];        /* ISA IRQ -> I/O APIC input, from the tables */
    uint8_t ncpus;
    uint8_t cpu_apic_id[8];
};
extern struct platform plat;
void firmware_scan(void);

/* The parts of the kernel, in the order kernel_main runs them. */
void pic_disable(void);
void lapic_setup(void);
void ipi_tests(void);
void timer_tests(void);
void ioapic_tests(void);
void extint_tests(void);
void smp_probe(void);

/* The fence vector (ioapic.c): taken and ended like any other, never logged. */
#define V_FENCE 0x4e
extern uint32_t timer_per_ms;     /* local APIC timer ticks per ms at divide by 1 (timer.c) */

/* Counting interrupts by vector, and the order they came in. */
extern volatile uint32_t vcount[256];
extern volatile uint8_t vlog[64];
extern volatile uint32_t vlog_n;
void vlog_reset(void);
void vlog_print(const char *what);

#endif

/* The guest test library: console, checks, descriptor tables, traps, rings, PIC and PIT. */
#ifndef GUEST_H
#define GUEST_H
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

/* Selectors of the library's GDT. */
#define KCS 0x08
#define KDS 0x10
#define UCS 0x1b
#define UDS 0x23
#define TSS_SEL 0x28

/* What a trap stub saved, lowest address first. esp/ss only when coming from ring 3. */
struct gframe {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags, esp, ss;
};
typedef void (*ghandler)(struct gframe *f);

/* Console on COM1. */
void gprintf(const char *fmt, ...);
/* Record a check: prints "ok - what" or "not ok - what". */
void check(bool cond, const char *what, ...);
/* Record a check of two numbers, printing both when they differ. */
void check_eq(uint32_t got, uint32_t want, const char *what, ...);
/* The summary line; returns the exit status (0 when every check passed). */
int summary(const char *name);
/* End through the exit port. */
__attribute__((noreturn)) void gexit(int status);

/* GDT (kernel and user flat segments, a TSS) and IDT (every vector to gtrap). */
void tables_init(void);
/* The library's GDT (six entries: null, KCS, KDS, UCS, UDS, TSS). */
const uint64_t *guest_gdt(void);
/* Call h for vector v; dpl is the gate's DPL; trap selects a trap gate (IF kept). */
void set_handler(unsigned v, ghandler h, unsigned dpl, bool trap);
/* Run fn in ring 3 on its own stack; it comes back with INT 0x81 (RING0_RETURN). */
void run_user(void (*fn)(void));
/* The same, entering ring 3 with a far return (RETF) instead of IRET. */
void run_user_lret(void (*fn)(void));
#define RING0_RETURN() __asm__ volatile("int $0x81")
extern struct tss { uint16_t link, r0; uint32_t esp0; uint16_t ss0, r1; uint32_t rest[22]; uint16_t trap, iomap; } gtss;

/* The last trap the default handler caught (recover by skipping `skip` bytes). */
extern volatile struct gframe last;
extern volatile unsigned traps_seen;
/* Catch vector v: the handler records it and resumes at eip + skip. */
void expect_trap(unsigned v, unsigned skip);

/* 8259s at 0x20/0x28, all masked; PIT channel 0 periodic at hz. */
void pic_init(void);
void pic_mask(uint16_t mask);
void pic_eoi(unsigned irq);
void pit_periodic(unsigned hz);

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t eflags(void) { uint32_t f; __asm__ volatile("pushf; pop %0" : "=r"(f)); return f; }
static inline uint32_t rd_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t rd_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t rd_cr3(void) { uint32_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t rd_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void wr_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void wr_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void wr_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n);
unsigned strlen(const char *s);
int strcmp(const char *a, const char *b);
int memcmp(const void *a, const void *b, unsigned n);

#endif

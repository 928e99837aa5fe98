/* The cpu_* guests' small runtime: console, checks, descriptor tables, fault catching. */
#ifndef RT_H
#define RT_H
#include <stdint.h>
#include <stdbool.h>

typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef uint64_t u64;

/* Selectors the runtime sets up. */
#define K_CS   0x08
#define K_DS   0x10
#define U_CS   0x1b
#define U_DS   0x23
#define TSS_SEL 0x28
#define FREE_GDT 6                 /* the first GDT slot tests may use (0x30 on) */

struct frame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    u32 vector, error, eip, cs, eflags;
    u32 esp, ss;                   /* only when the trap came from ring 3 */
};

/* What the last trap that ended a try looked like. */
struct trapinfo { u32 vector, error, eip, cs, eflags, cr2, esp, ss; };
extern struct trapinfo last;

/* A handler that returns nonzero lets the interrupted code go on (IRET); 0 falls through to
 * the catcher (or a fatal stop when no try is active). */
typedef int (*handler_fn)(struct frame *f);
void set_handler(unsigned vector, handler_fn h);

/* Run fn(arg); -1 when it returns, else the vector that ended it (details in `last`). */
int try_call(void (*fn)(void *), void *arg);
/* Run fn at ring 3 (flat user segments, IF clear); 0x80 when it reached user_exit(). */
int try_user(void (*fn)(void));
extern u32 user_eflags;            /* what ring 3 starts with: 0x002 unless a test says otherwise */
__attribute__((noreturn)) void user_exit(void);

extern u32 gdt[128];
extern u8 ring0_stack_top[], user_stack_top[];
void gdt_set(unsigned idx, u32 base, u32 limit, u8 access, u8 flags);
void idt_gate(unsigned vec, void *entry, u16 sel, u8 type_attr);
extern void *stub_table[256];
extern u32 tss[26];

/* Console. */
void putch(char c);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hex64(u64 v);

/* Checks: a failed one prints FAIL and counts. */
extern unsigned failures;
void check(const char *what, bool ok);
void expect(const char *what, u32 got, u32 want);
/* Print a try's outcome: "name: ok" or "name: #NN err=XXXX". */
void outcome(const char *name, int r);
/* outcome() and a check that the vector is the wanted one (-1 for none). */
void expect_trap(const char *name, int r, int want_vec, u32 want_err);

static inline u32 rd_cr0(void) { u32 v; __asm__ volatile("mov %%cr0,%0" : "=r"(v)); return v; }
static inline u32 rd_cr2(void) { u32 v; __asm__ volatile("mov %%cr2,%0" : "=r"(v)); return v; }
static inline u32 rd_cr3(void) { u32 v; __asm__ volatile("mov %%cr3,%0" : "=r"(v)); return v; }
static inline u32 rd_cr4(void) { u32 v; __asm__ volatile("mov %%cr4,%0" : "=r"(v)); return v; }
static inline void wr_cr0(u32 v) { __asm__ volatile("mov %0,%%cr0" :: "r"(v) : "memory"); }
static inline void wr_cr2(u32 v) { __asm__ volatile("mov %0,%%cr2" :: "r"(v) : "memory"); }
static inline void wr_cr3(u32 v) { __asm__ volatile("mov %0,%%cr3" :: "r"(v) : "memory"); }
static inline void wr_cr4(u32 v) { __asm__ volatile("mov %0,%%cr4" :: "r"(v) : "memory"); }
static inline u64 rdmsr(u32 m) { u32 a, d; __asm__ volatile("rdmsr" : "=a"(a), "=d"(d) : "c"(m)); return (u64)d << 32 | a; }
static inline void wrmsr(u32 m, u64 v) { __asm__ volatile("wrmsr" :: "c"(m), "a"((u32)v), "d"((u32)(v >> 32)) : "memory"); }
static inline u64 rdtsc(void) { u32 a, d; __asm__ volatile("rdtsc" : "=a"(a), "=d"(d)); return (u64)d << 32 | a; }
static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline u8 inb(u16 p) { u8 v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }

/* Each guest's own tests. */
void tests(void);

#endif

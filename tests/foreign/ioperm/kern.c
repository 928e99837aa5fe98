/* The ioperm guest's kernel services. */
#include "kern.h"

unsigned failures;

void putc(char c)
{
    while (!(inb(0x3fd) & 0x20)) { }
    outb(0x3f8, (uint8_t)c);
}

void puts(const char *s) { while (*s) putc(*s++); }

void hex(uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (i * 4)) & 15]);
}

void dec(uint32_t v)
{
    char b[12];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) putc(b[--n]);
}

void show(const char *label, uint32_t got, int digits, uint32_t want)
{
    puts(label);
    putc(' ');
    hex(got, digits);
    if (got != want) {
        puts("  <- want ");
        hex(want, digits);
        failures++;
    }
    putc('\n');
}

/* GDT: null, kernel code/data, user code/data, TSS, a data segment based at 0x1000. */
static uint64_t gdt[8];
static uint64_t idt[256];

static uint64_t seg(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
    return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
};

void tss_load(uint32_t base, uint32_t limit, uint16_t iomap)
{
    struct tss *t = (struct tss *)base;
    t->esp0 = (uint32_t)ring0_stack_top;
    t->ss0 = SEL_KDATA;
    t->iomap = iomap;
    gdt[SEL_TSS >> 3] = seg(base, limit, 0x89, 0);     /* available 32-bit TSS */
    __asm__ volatile("ltr %w0" :: "r"(SEL_TSS) : "memory");
}

void tables_init(void)
{
    gdt[1] = seg(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = seg(0, 0xfffff, 0x92, 0xc);
    gdt[3] = seg(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = seg(0, 0xfffff, 0xf2, 0xc);
    gdt[6] = seg(0x1000, 0xfffff, 0x92, 0xc);
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) g = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n"
                     "ljmp $0x08, $1f\n1:\n"
                     "mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n"
                     "mov %%ax, %%fs\n mov %%ax, %%gs\n" :: "m"(g) : "eax", "memory");
    for (int v = 0; v < 256; v++) {
        uint32_t off = stub_table[v];
        unsigned dpl = v == 0x80 ? 3 : 0;
        idt[v] = (uint64_t)(off & 0xffff) | (uint64_t)SEL_KCODE << 16 | (uint64_t)(0x8e | dpl << 5) << 40 |
                 (uint64_t)(off >> 16) << 48;
    }
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) i = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(i));
}

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t pt_win[1024] __attribute__((aligned(4096)));
/* Frames for the window: frame 0 and 1 are mapped at WIN+0x1000 and WIN in that order. */
static uint8_t frames[3][4096] __attribute__((aligned(4096)));

void paging_init(void)
{
    for (uint32_t i = 0; i < 1024; i++) pt_low[i] = i * 4096 | 7;
    pt_win[0] = (uint32_t)frames[1] | 7;
    pt_win[1] = (uint32_t)frames[0] | 7;
    pt_win[2] = 0;
    pt_win[3] = (uint32_t)frames[2] | 7;
    pd[0] = (uint32_t)pt_low | 7;
    pd[WIN >> 22] = (uint32_t)pt_win | 7;
    __asm__ volatile("mov %0, %%cr3\n"
                     "mov %%cr0, %%eax\n or $0x80000000, %%eax\n mov %%eax, %%cr0\n"
                     :: "r"(pd) : "eax", "memory");
}

/* Records a fault a probe asked for; anything else is fatal. */
uint32_t user_ret, user_flags;
static uint32_t user_stack[1024] __attribute__((aligned(16)));

uint32_t trap(struct frame *f);
uint32_t trap(struct frame *f)
{
    if (f->vec == 0x80) { user_ret = f->eax; user_flags = f->eflags; return 1; }
    if (f->vec < 32 && fault_fixup) {
        uint32_t cr2;
        __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
        fault_hit = 1;
        fault_vec = f->vec;
        fault_err = f->err;
        fault_eip = f->eip;
        fault_cr2 = cr2;
        f->eip = fault_fixup;
        fault_fixup = 0;
        return 0;
    }
    puts("unexpected trap ");
    hex(f->vec, 2);
    puts(" err ");
    hex(f->err, 8);
    puts(" at ");
    hex(f->eip, 8);
    putc('\n');
    outb(0xf4, 0x7f);
    for (;;) { }
}

void run_user(void (*fn)(void), unsigned iopl)
{
    to_user(fn, 0x202 | iopl << 12, (uint32_t)(user_stack + 1024));
}

void user_exit(void)
{
    __asm__ volatile("int $0x80" :: "a"(0));
    for (;;) { }
}

/* hhsys: a higher-half kernel in C. It runs at 0xC0100000 (loaded at 1 MiB), builds its own
 * GDT, IDT and TSS, copies a user program to 0x00400000 and runs it in ring 3, where it makes
 * system calls through a DPL 3 trap gate at INT 0x80; the kernel prints each call's frame and
 * the registers the calls return, and ends with status 0 if everything was as expected. */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct regs {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t es, ds;
    uint32_t eip, cs, eflags, uesp, uss;
};

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t zero, attr;
    uint16_t off_hi;
} __attribute__((packed));

struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap;
} __attribute__((packed));

extern uint32_t boot_pd[1024];
extern char boot_stack_top[], user_load[], user_size[], kernel_end[];
extern void syscall_entry(void), trap_entry(void), pf_entry(void);
extern void enter_user(uint32_t eip, uint32_t esp);
extern void leave_user(void) __attribute__((noreturn));
extern char user_start[], user_stack_top[];

void kmain(uint32_t magic, uint32_t mbi);
void syscall_c(struct regs *r);
void trap_c(uint32_t *frame);

static uint64_t gdt[6];
static struct idt_gate idt[256];
static struct tss tss;
static uint8_t syscall_stack[8192] __attribute__((aligned(16)));
static unsigned failures;

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_(char c)
{
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
}

static void puts_(const char *s) { while (*s) putc_(*s++); }

static void hex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static void dec(uint32_t v)
{
    char b[11];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) putc_(b[--n]);
}

/* One named value, checked against what it must be. */
static void show(const char *name, uint32_t v, uint32_t want)
{
    puts_("  ");
    puts_(name);
    putc_('=');
    hex(v);
    if (v != want) { puts_(" FAIL want "); hex(want); failures++; }
    putc_('\n');
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    puts_("hhsys: ");
    dec(failures);
    puts_(" failed\n");
    outb(0xf4, (uint8_t)(failures > 255 ? 255 : failures));
    for (;;) __asm__ volatile("cli; hlt");
}

static uint64_t seg(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf0) << 48 | (uint64_t)(base >> 24) << 56;
}

static void gate(unsigned v, void (*fn)(void), uint8_t attr)
{
    uint32_t off = (uint32_t)fn;
    idt[v] = (struct idt_gate){ (uint16_t)off, 0x08, 0, attr, (uint16_t)(off >> 16) };
}

void trap_c(uint32_t *frame)
{
    puts_("unexpected trap: eip ");
    hex(frame[0]);
    puts_(" cs ");
    hex(frame[1]);
    putc_('\n');
    failures++;
    finish();
}

struct pf_regs {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t es, ds;
    uint32_t error, eip, cs, eflags, uesp, uss;
};
extern char user_pf_read[], user_pf_write[], user_pf_after[];
void pf_c(struct pf_regs *r);

void pf_c(struct pf_regs *r)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    bool write = r->eip == (uint32_t)user_pf_write;
    puts_(write ? "page fault, user write:\n" : "page fault, user read:\n");
    show("error code", r->error, write ? 7 : 5);
    show("cr2", cr2, write ? 0xC0100004 : 0xC0100000);
    show("eip is the instruction", r->eip == (uint32_t)(write ? user_pf_write : user_pf_read), 1);
    show("cs", r->cs, 0x1b);
    show("bytes below esp0", tss.esp0 - (uint32_t)r, sizeof *r);
    if (!write) r->eip += 5;            /* past the 5-byte load; EAX keeps its value */
    else r->eip = (uint32_t)user_pf_after;
}

void syscall_c(struct regs *r)
{
    uint32_t fl;
    __asm__ volatile("pushfl; popl %0" : "=r"(fl));
    switch (r->eax) {
    case 0:
        leave_user();
    case 1:
        puts_("call 1 frame:\n");
        show("eip-user_start", r->eip - (uint32_t)user_start, 0x25);
        show("cs", r->cs, 0x1b);
        show("ss", r->uss, 0x23);
        show("user esp", r->uesp, (uint32_t)user_stack_top);
        show("eflags", r->eflags, 0x202);
        show("ds", r->ds, 0x23);
        show("IF in the handler", fl & 0x200, 0x200);
        show("bytes below esp0", tss.esp0 - (uint32_t)r, sizeof *r);
        show("ebx", r->ebx, 0x11111111);
        show("ebp", r->ebp, 0x66666666);
        r->eax = r->ebx + r->ecx;
        r->ebx = ~r->ebx;
        r->ecx = r->edx ^ r->esi;
        r->edx = r->cs;
        r->esi = r->uesp;
        r->edi = tss.esp0 - (uint32_t)r;
        r->ebp = 0x77777777;
        r->eflags = (r->eflags | 0x1) & ~0x40u;       /* CF set, ZF clear */
        return;
    case 2: {
        const uint32_t *s = (const uint32_t *)r->ebx;
        puts_("call 1 returned:\n");
        show("eax", s[0], 0x33333333);
        show("ebx", s[1], 0xeeeeeeee);
        show("ecx", s[2], 0x77777777);
        show("edx", s[3], 0x1b);
        show("esi", s[4], (uint32_t)user_stack_top);
        show("edi", s[5], sizeof *r);
        show("ebp", s[6], 0x77777777);
        show("esp", s[7], (uint32_t)user_stack_top);
        show("eflags", s[8], 0x203);
        return;
    }
    case 3:
        r->eax = r->ebx * 2;
        return;
    case 4:
        show("value", r->ebx, r->ebx);
        return;
    default:
        r->eax = (uint32_t)-38;
        r->eflags |= 1;
        return;
    }
}

void kmain(uint32_t magic, uint32_t mbi)
{
    /* The firmware's 8259s let IRQ0 through on vector 8: ring 3 runs with IF set, and a tick
     * would land on the double-fault handler. The kernel uses no interrupts: mask them all. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    (void)mbi;
    puts_("hhsys: a higher-half kernel, ring 3 and INT 0x80\n");
    show("multiboot magic", magic, 0x2BADB002);
    show("kmain", (uint32_t)kmain >= 0xC0100000 && (uint32_t)kmain < 0xC0200000, 1);

    gdt[1] = seg(0, 0xfffff, 0x9a, 0xc0);
    gdt[2] = seg(0, 0xfffff, 0x92, 0xc0);
    gdt[3] = seg(0, 0xfffff, 0xfa, 0xc0);
    gdt[4] = seg(0, 0xfffff, 0xf2, 0xc0);
    tss.ss0 = 0x10;
    tss.esp0 = (uint32_t)syscall_stack + sizeof syscall_stack;
    tss.iomap = sizeof tss;
    gdt[5] = seg((uint32_t)&tss, sizeof tss - 1, 0x89, 0x00);
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (uint32_t)gdt },
        idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp $0x08, $1f\n"
                     "1:\n\t"
                     "movw $0x10, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs" :: "m"(gdtr) : "eax", "memory");
    for (unsigned v = 0; v < 256; v++) gate(v, trap_entry, 0x8e);
    gate(0x80, syscall_entry, 0xef);
    gate(14, pf_entry, 0x8e);
    __asm__ volatile("lidt %0" :: "m"(idtr));
    __asm__ volatile("ltr %w0" :: "r"(0x28));

    /* The user program's 4 MiB at 0x00400000, user-accessible; its code copied there. */
    boot_pd[1] = 0x00400000 | 0x87;
    __asm__ volatile("invlpg (%0)" :: "r"(0x00400000) : "memory");
    const uint8_t *from = (const uint8_t *)user_load;
    uint8_t *to = (uint8_t *)0x00400000;
    for (size_t i = 0; i < (size_t)user_size; i++) to[i] = from[i];
    show("user program bytes", (uint32_t)user_size > 0, 1);

    enter_user((uint32_t)user_start, (uint32_t)user_stack_top);
    puts_("back in the kernel\n");
    finish();
}

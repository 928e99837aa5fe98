/* The cpu_* guests' runtime in C: tables, the trap dispatcher, the console and checks. */
#include <stdarg.h>
#include "rt.h"

extern u32 idt[512];
extern u32 catch_on;
extern void enter_user(void (*fn)(void));

u32 tss[26];
struct trapinfo last;
unsigned failures;
static handler_fn handlers[256];

void gdt_set(unsigned idx, u32 base, u32 limit, u8 access, u8 flags)
{
    gdt[idx * 2] = (limit & 0xffff) | (base << 16);
    gdt[idx * 2 + 1] = ((base >> 16) & 0xff) | ((u32)access << 8) | (limit & 0xf0000) |
                       ((u32)(flags & 0xf) << 20) | (base & 0xff000000u);
}

void idt_gate(unsigned vec, void *entry, u16 sel, u8 type_attr)
{
    u32 e = (u32)entry;
    idt[vec * 2] = (e & 0xffff) | ((u32)sel << 16);
    idt[vec * 2 + 1] = (e & 0xffff0000u) | ((u32)type_attr << 8);
}

void set_handler(unsigned vector, handler_fn h) { handlers[vector] = h; }

/* Called from _start on the loader's flat segments, before our GDT and IDT are loaded. */
void rt_setup(void)
{
    /* Accessed bits set: they then never change (umbra does not set them for the CPU). */
    gdt_set(1, 0, 0xfffff, 0x9b, 0xc);      /* 0x08 ring-0 code */
    gdt_set(2, 0, 0xfffff, 0x93, 0xc);      /* 0x10 ring-0 data */
    gdt_set(3, 0, 0xfffff, 0xfb, 0xc);      /* 0x18 ring-3 code */
    gdt_set(4, 0, 0xfffff, 0xf3, 0xc);      /* 0x20 ring-3 data */
    tss[1] = (u32)ring0_stack_top;          /* esp0 */
    tss[2] = K_DS;                          /* ss0 */
    tss[25] = sizeof tss << 16;             /* I/O map base past the limit: no bitmap */
    gdt_set(5, (u32)tss, sizeof tss - 1, 0x89, 0x0);
    for (unsigned v = 0; v < 256; v++) idt_gate(v, stub_table[v], K_CS, 0x8e);
    idt_gate(0x80, stub_table[0x80], K_CS, 0xee);
}

static void fatal(struct frame *f)
{
    say("FATAL: unexpected trap %u err %x at %x:%x eflags %x\n", f->vector, f->error, f->cs, f->eip, f->eflags);
    outb(0xf4, 0x7f);
    for (;;) __asm__ volatile("hlt");
}

int trap_entry(struct frame *f)
{
    if (handlers[f->vector] && handlers[f->vector](f)) return 0;
    if (!catch_on) fatal(f);
    last.vector = f->vector; last.error = f->error; last.eip = f->eip; last.cs = f->cs;
    last.eflags = f->eflags; last.cr2 = rd_cr2();
    last.esp = (f->cs & 3) ? f->esp : 0;
    last.ss = (f->cs & 3) ? f->ss : 0;
    return 1;
}

static void user_tramp(void *fn) { enter_user((void (*)(void))fn); }
int try_user(void (*fn)(void)) { return try_call(user_tramp, (void *)fn); }

void putch(char c)
{
    if (c == '\n') putch('\r');
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (u8)c);
}

static void put_num(u32 v, unsigned base, int width, char pad)
{
    char buf[12];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    while (n < width) buf[n++] = pad;
    while (n) putch(buf[--n]);
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { putch(*fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'x': put_num(va_arg(ap, u32), 16, width, pad); break;
        case 'u': put_num(va_arg(ap, u32), 10, width, pad); break;
        case 'd': { int v = va_arg(ap, int); if (v < 0) { putch('-'); v = -v; } put_num((u32)v, 10, width, pad); break; }
        case 's': { const char *s = va_arg(ap, const char *); while (*s) putch(*s++); break; }
        case 'c': putch((char)va_arg(ap, int)); break;
        default: putch(*fmt); break;
        }
    }
    va_end(ap);
}

void hex64(u64 v) { say("%08x%08x", (u32)(v >> 32), (u32)v); }

void check(const char *what, bool ok)
{
    if (!ok) { failures++; say("FAIL %s\n", what); }
}

void expect(const char *what, u32 got, u32 want)
{
    if (got != want) { failures++; say("FAIL %s: got %x want %x\n", what, got, want); }
}

void outcome(const char *name, int r)
{
    if (r < 0) say("%s: ok\n", name);
    else if (r == 0x80) say("%s: ring3 done\n", name);
    else say("%s: #%u err=%x cs=%x eip=%x\n", name, (u32)r, last.error, last.cs, last.eip);
}

void expect_trap(const char *name, int r, int want_vec, u32 want_err)
{
    outcome(name, r);
    if (r != want_vec || (r >= 0 && r != 0x80 && last.error != want_err)) {
        failures++;
        say("FAIL %s: want %d err %x\n", name, want_vec, want_err);
    }
}

int main(void)
{
    __asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
    tests();
    say("failures: %u\n", failures);
    return failures ? 1 : 0;
}

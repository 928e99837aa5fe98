/* The guest test library: COM1 console, checks with a summary, GDT/TSS/IDT, trap dispatch,
 * ring-3 excursions, 8259 and 8254 helpers. Output is deterministic: no addresses that
 * depend on the machine, no times. */
#include "tests/guests/lib/guest.h"

/* ---- console ---- */
#define COM1 0x3f8
static bool com_ready;

static void com_init(void)
{
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0x01);          /* FIFOs on, trigger at one byte; keep what arrived */
    outb(COM1 + 4, 0x03);
    com_ready = true;
}

static void com_putc(char c)
{
    if (!com_ready) com_init();
    while (!(inb(COM1 + 5) & 0x20)) ;
    outb(COM1, (uint8_t)c);
}

static void put_num(uint32_t v, unsigned base, int width, char pad, bool neg)
{
    char b[12];
    int n = 0;
    do { b[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) b[n++] = '-';
    while (width-- > n) com_putc(pad);
    while (n) com_putc(b[--n]);
}

static void vprint(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') { com_putc(*fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': { int v = va_arg(ap, int); put_num(v < 0 ? (uint32_t)-v : (uint32_t)v, 10, width, pad, v < 0); break; }
        case 'u': put_num(va_arg(ap, uint32_t), 10, width, pad, false); break;
        case 'x': put_num(va_arg(ap, uint32_t), 16, width, pad, false); break;
        case 's': { const char *s = va_arg(ap, const char *); while (*s) com_putc(*s++); break; }
        case 'c': com_putc((char)va_arg(ap, int)); break;
        default: com_putc('%'); com_putc(*fmt); break;
        }
    }
}

void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

/* ---- checks ---- */
static unsigned passed, failed;

void check(bool cond, const char *what, ...)
{
    va_list ap;
    va_start(ap, what);
    gprintf(cond ? "ok - " : "not ok - ");
    vprint(what, ap);
    gprintf("\n");
    va_end(ap);
    if (cond) passed++; else failed++;
}

void check_eq(uint32_t got, uint32_t want, const char *what, ...)
{
    va_list ap;
    va_start(ap, what);
    gprintf(got == want ? "ok - " : "not ok - ");
    vprint(what, ap);
    if (got != want) gprintf(": got %x want %x", got, want);
    gprintf("\n");
    va_end(ap);
    if (got == want) passed++; else failed++;
}

int summary(const char *name)
{
    gprintf("%s: %u passed, %u failed\n", name, passed, failed);
    return failed ? 1 : 0;
}

void gexit(int status)
{
    outb(0xf4, (uint8_t)status);
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- small libc ---- */
void *memset(void *d, int c, unsigned n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, unsigned n) { uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d; }
unsigned strlen(const char *s) { unsigned n = 0; while (s[n]) n++; return n; }
int strcmp(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return (uint8_t)*a - (uint8_t)*b; }
int memcmp(const void *a, const void *b, unsigned n)
{
    const uint8_t *x = a, *y = b;
    for (unsigned i = 0; i < n; i++) if (x[i] != y[i]) return x[i] - y[i];
    return 0;
}

/* ---- descriptor tables ---- */
struct tss gtss;
static uint64_t gdt[6];
static uint64_t idt[256];
static uint8_t kstack[8192] __attribute__((aligned(16)));
extern const uint32_t gstub_table[256];
static ghandler handlers[256];
static unsigned skip_for[256];
static bool expected[256];
volatile struct gframe last;
volatile unsigned traps_seen;

/* A flat segment descriptor with access byte acc. */
static uint64_t seg(uint8_t acc) { return 0x00cf00000000ffffull | (uint64_t)acc << 40; }

void set_handler(unsigned v, ghandler h, unsigned dpl, bool trap)
{
    uint32_t off = gstub_table[v];
    handlers[v] = h;
    idt[v] = (off & 0xffff) | (uint64_t)KCS << 16 | (uint64_t)(0x80 | dpl << 5 | (trap ? 0xf : 0xe)) << 40 |
             (uint64_t)(off >> 16) << 48;
}

extern void back_to_kernel(void);
/* INT 0x81 from ring 3: back to run_user's caller. */
static void user_done(struct gframe *f) { (void)f; back_to_kernel(); }

void tables_init(void)
{
    gdt[1] = seg(0x9a); gdt[2] = seg(0x92); gdt[3] = seg(0xfa); gdt[4] = seg(0xf2);
    uint32_t tb = (uint32_t)&gtss, tl = sizeof gtss - 1;
    gdt[5] = (tl & 0xffff) | (uint64_t)(tb & 0xffffff) << 16 | (uint64_t)0x89 << 40 | (uint64_t)(tb >> 24) << 56;
    gtss.ss0 = KDS;
    gtss.esp0 = (uint32_t)kstack + sizeof kstack;
    gtss.iomap = sizeof gtss;
    struct __attribute__((packed)) { uint16_t l; uint32_t b; } gdtr = { sizeof gdt - 1, (uint32_t)gdt },
        idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0; ljmp $0x08, $1f; 1: mov $0x10, %%ax; mov %%ax, %%ds; mov %%ax, %%es;"
                     "mov %%ax, %%ss; mov %%ax, %%fs; mov %%ax, %%gs" :: "m"(gdtr) : "eax", "memory");
    __asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
    for (unsigned v = 0; v < 256; v++) set_handler(v, 0, 0, false);
    set_handler(0x81, user_done, 3, false);
    __asm__ volatile("lidt %0" :: "m"(idtr));
}

const uint64_t *guest_gdt(void) { return gdt; }

void expect_trap(unsigned v, unsigned skip)
{
    expected[v] = true;
    skip_for[v] = skip;
}

/* Called by every stub. */
void gtrap(struct gframe *f);
void gtrap(struct gframe *f)
{
    unsigned v = f->vector;
    if (handlers[v]) { handlers[v](f); return; }
    if (expected[v]) {
        memcpy((void *)&last, f, (f->cs & 3) ? sizeof *f : sizeof *f - 8);
        if (!(f->cs & 3)) { last.esp = 0; last.ss = 0; }
        traps_seen++;
        f->eip += skip_for[v];
        return;
    }
    gprintf("unexpected trap %u at %x error %x\n", v, f->eip, f->error);
    gexit(99);
}

/* ---- 8259 and 8254 ---- */
void pic_init(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 4); outb(0xa1, 2);
    outb(0x21, 1); outb(0xa1, 1);
    pic_mask(0xffff);
}

void pic_mask(uint16_t mask) { outb(0x21, (uint8_t)mask); outb(0xa1, (uint8_t)(mask >> 8)); }
void pic_eoi(unsigned irq) { if (irq >= 8) outb(0xa0, 0x20); outb(0x20, 0x20); }

void pit_periodic(unsigned hz)
{
    uint32_t div = 1193182u / hz;
    outb(0x43, 0x34);
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
}

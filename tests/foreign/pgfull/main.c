/* pgfull: a kernel that maps all 4 GiB. Directory entries 0-1022 map linear = physical with
 * 4 MiB pages (RAM, the device pages, and nothing at all alike: the usual shortcut of a kernel
 * that wants every physical address reachable), and entry 1023 maps the directory onto itself,
 * so the page tables live at 0xffc00000 and the directory at 0xfffff000. Through that
 * recursive slot the kernel then replaces the 4 MiB page at 0x40000000 with a page table of
 * its own, remaps pages in it and reads back entries, A and D bits; then points the slots
 * just below the recursive one at RAM and reads through each. No linear range is left
 * unmapped. */
#include <stdint.h>

#define PG_P 1u
#define PG_W 2u
#define PG_A 0x20u
#define PG_D 0x40u
#define PG_PS 0x80u

extern void pf_stub(void);
int main(void);
void pf_report(uint32_t cr2, uint32_t err) __attribute__((noreturn));

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static void putch(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, (uint8_t)c); }
static void puts(const char *s) { while (*s) putch(*s++); }
static void hex(uint32_t v) { for (int i = 28; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]); }

static unsigned errors;
static void show(const char *k, uint32_t v, uint32_t want)
{
    puts(k); puts(" = "); hex(v);
    if (v != want) { puts("  <-- expected "); hex(want); errors++; }
    putch('\n');
}

void pf_report(uint32_t cr2, uint32_t err)
{
    puts("unexpected page fault at "); hex(cr2); puts(" error "); hex(err); putch('\n');
    outb(0xf4, 0x7f);
    for (;;) __asm__ volatile("cli; hlt");
}

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint64_t idt[32];

#define PT(i)   ((volatile uint32_t *)(0xffc00000u + (uint32_t)(i) * 4096u))   /* table of slot i */
#define PDE(i)  (((volatile uint32_t *)0xfffff000u)[i])
static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline uint32_t rd(uint32_t va) { __asm__ volatile("" ::: "memory"); return *(volatile uint32_t *)va; }
static inline void wr(uint32_t va, uint32_t v) { __asm__ volatile("" ::: "memory"); *(volatile uint32_t *)va = v; }

int main(void)
{
    puts("pgfull: every directory entry present\n");
    uint32_t off = (uint32_t)pf_stub;
    idt[14] = (off & 0xffffu) | (0x08ull << 16) | (0x8eull << 40) | ((uint64_t)(off >> 16) << 48);
    struct { uint16_t l; uint32_t b; } __attribute__((packed)) r = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(r));
    for (uint32_t i = 0; i < 1023; i++) pd[i] = (i << 22) | PG_PS | PG_P | PG_W;
    pd[1023] = (uint32_t)pd | PG_P | PG_W;
    uint32_t c4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(c4));
    __asm__ volatile("mov %0, %%cr4" :: "r"(c4 | 0x10));
    __asm__ volatile("mov %0, %%cr3" :: "r"((uint32_t)pd));
    uint32_t c0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(c0));
    __asm__ volatile("mov %0, %%cr0" :: "r"(c0 | 0x80010000u) : "memory");

    show("entry 1023 through itself", PDE(1023), (uint32_t)pd | PG_P | PG_W | PG_A);
    show("entry 256 through the slot", PDE(256), (256u << 22) | PG_PS | PG_P | PG_W);
    /* 0x40000000 (1 GiB) becomes a page table whose pages map 0x00500000 + 8 KiB * n. */
    wr(0x00300000, 0);                                    /* a zeroed frame for the table */
    for (uint32_t a = 0x00300000; a < 0x00301000; a += 4) wr(a, 0);
    for (uint32_t a = 0x00500000; a < 0x00520000; a += 4) wr(a, a ^ 0x600d0000u);
    PDE(256) = 0x00300000 | PG_P | PG_W;
    invlpg(0x40000000);
    invlpg(0xffc00000u + 256 * 4096);
    for (uint32_t n = 0; n < 8; n++) PT(256)[n] = (0x00500000 + n * 0x2000) | PG_P | PG_W;
    show("page 3 through the new table", rd(0x40003010), (0x00506010) ^ 0x600d0000u);
    show("its entry", PT(256)[3], 0x00506000 | PG_P | PG_W | PG_A);
    wr(0x40005020, 0x12345678);
    show("written through page 5", rd(0x0050a020), 0x12345678);
    show("entry 5", PT(256)[5], 0x0050a000 | PG_P | PG_W | PG_A | PG_D);
    show("directory entry 256 (written through as a PTE: dirty)", PDE(256), 0x00300000 | PG_P | PG_W | PG_A | PG_D);
    PT(256)[3] = 0x00500000 | PG_P;
    invlpg(0x40003000);
    show("page 3 moved", rd(0x40003010), 0x00500010 ^ 0x600d0000u);
    /* the 4 MiB pages nearest the top are used too: RAM aliases at 3.5 GiB */
    pd[896] = 0x00400000 | PG_PS | PG_P | PG_W;
    invlpg(0xe0000000u);
    show("RAM through 0xe0100000", rd(0xe0100000u + 0x6010), 0x00506010 ^ 0x600d0000u);
    /* the table of slot 1023 is the directory: its last page is the directory again */
    show("the directory through the table of slot 1023", PT(1023)[1023], (uint32_t)pd | PG_P | PG_W | PG_A | PG_D);
    /* RAM at the top slots too, one after the other: 0xff800000, 0xff400000, 0xffc00000's
     * neighbours, each read right after its entry changes. */
    for (uint32_t i = 1022; i >= 1016; i--) {
        PDE(i) = 0x00400000 | PG_PS | PG_P | PG_W;
        invlpg(i << 22);
        putch(' ');
        hex(rd((i << 22) + 0x106010));
    }
    putch('\n');
    show("and the recursive slot still works", PT(256)[5], 0x0050a000 | PG_P | PG_W | PG_A | PG_D);
    puts(errors ? "pgfull: FAILED\n" : "pgfull: all checks passed\n");
    return errors ? 1 : 0;
}

/* mbraw: the Multiboot hand-over as a loader leaves it, field by field: where the info lies,
 * its flags, the boot device, the exact command line, the module list's address, the memory
 * map's shape and its entries that do not depend on the machine's RAM size. */
#include <stdint.h>

static uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void put(char c)
{
    while (!(inb(0x3fd) & 0x20)) { }
    __asm__ volatile("outb %0, %1" :: "a"(c), "Nd"((uint16_t)0x3f8));
}

static void puts_(const char *s) { while (*s) put(*s++); }

static void hex(uint32_t v)
{
    puts_("0x");
    for (int i = 28; i >= 0; i -= 4) put("0123456789abcdef"[(v >> i) & 15]);
}

static int failures;

/* Print "name value" and compare with what the specification (or a PC) says it must be. */
static void field(const char *name, uint32_t v, uint32_t want)
{
    puts_(name);
    put(' ');
    hex(v);
    if (v != want) { puts_(" (want "); hex(want); put(')'); failures++; }
    put('\n');
}

struct mmap_entry { uint32_t size; uint32_t base_lo, base_hi, len_lo, len_hi, type; } __attribute__((packed));

int mbraw_main(uint32_t magic, const uint32_t *mbi)
{
    field("magic", magic, 0x2badb002);
    field("info at", (uint32_t)mbi, (uint32_t)mbi);
    field("flags", mbi[0], mbi[0]);
    field("mem_lower", mbi[1], 639);
    if (mbi[0] & 2) field("boot_device", mbi[3], mbi[3]);
    puts_("cmdline [");
    puts_((const char *)mbi[4]);
    puts_("]\n");
    field("cmdline at", mbi[4], mbi[4]);
    field("mods_count", mbi[5], 0);
    field("mods_addr", mbi[6], mbi[6]);
    field("mmap_addr", mbi[12], mbi[12]);
    field("mmap_length", mbi[11], mbi[11]);
    const uint8_t *p = (const uint8_t *)mbi[12], *end = p + mbi[11];
    uint32_t ram_above_1m = 0;
    for (unsigned i = 0; p < end; i++) {
        const struct mmap_entry *e = (const struct mmap_entry *)p;
        /* RAM from 1 MiB and what follows it scale with the machine; the rest is fixed. */
        if (e->type == 1 && e->base_lo == 0x100000) ram_above_1m = e->len_lo;
        else if (!(ram_above_1m && e->base_lo == 0x100000 + ram_above_1m)) {
            puts_("mmap ");
            hex(e->base_lo); put(' '); hex(e->len_lo); put(' '); hex(e->type); put('\n');
        }
        p += e->size + 4;
    }
    field("mem_upper matches the map", mbi[2] == ram_above_1m >> 10, 1);
    puts_(failures ? "mbraw: FAIL\n" : "mbraw: ok\n");
    return failures;
}

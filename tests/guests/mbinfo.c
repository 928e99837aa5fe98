/* The Multiboot hand-over: magic, info flags, memory sizes against the memory map, the command
 * line, and the entry state (segments, flags, CR0). Only what a 64 MiB VM and a bare machine
 * of any size share is checked; the kernel path (first word) differs and is not printed. */
#include "tests/guests/lib/guest.h"

struct mbi { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr,
             syms[4], mmap_length, mmap_addr; };
struct __attribute__((packed)) mmap { uint32_t size; uint64_t addr, len; uint32_t type; };

int gmain(uint32_t magic, uint32_t mbi_addr)
{
    uint32_t ds, es, fs, gs, cs, ss;
    __asm__ volatile("mov %%ds, %0; mov %%es, %1; mov %%fs, %2; mov %%gs, %3; mov %%cs, %4; mov %%ss, %5"
                     : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs), "=r"(cs), "=r"(ss));
    uint32_t fl = eflags(), cr0 = rd_cr0();
    const struct mbi *m = (const struct mbi *)mbi_addr;
    check_eq(magic, 0x2badb002, "magic in EAX");
    check_eq(m->flags & 0x45, 0x45, "info has memory sizes, command line, memory map");
    check_eq(m->mem_lower, 639, "mem_lower");
    /* DS..GS as loaded; CS and SS by index (their RPL is not the guest's to see in umbra). */
    check_eq(ds, 0x10, "DS flat data"); check_eq(es, 0x10, "ES"); check_eq(fs, 0x10, "FS"); check_eq(gs, 0x10, "GS");
    check_eq(cs & ~3u, 0x08, "CS flat code");
    check_eq(ss & ~3u, 0x10, "SS flat data");
    check_eq(fl & 0x20200, 0, "IF and VM clear");
    check_eq(cr0 & 0x80000001u, 1, "protected mode, paging off");

    bool low = false, high = false;
    uint64_t high_len = 0;
    for (uint32_t p = m->mmap_addr; p < m->mmap_addr + m->mmap_length;) {
        const struct mmap *e = (const struct mmap *)p;
        if (e->type == 1 && e->addr == 0 && e->len >= 0x9f000) low = true;
        if (e->type == 1 && e->addr == 0x100000) { high = true; high_len = e->len; }
        p += e->size + 4;
    }
    check(low, "memory map: RAM from 0");
    check(high && high_len >= (1u << 20), "memory map: RAM from 1 MiB");
    uint64_t upper = (uint64_t)m->mem_upper << 10;
    check(upper >= high_len && upper <= high_len + (1u << 20), "mem_upper agrees with the map");

    const char *c = (const char *)m->cmdline;
    while (*c && *c != ' ') c++;          /* skip the kernel path */
    while (*c == ' ') c++;
    gprintf("command line after the path: '%s'\n", c);
    check(!strcmp(c, "alpha beta=2"), "command line words");
    /* Modules: their strings and contents (not their addresses, which are the loader's choice). */
    check_eq(m->flags & 8, 8, "info has modules");
    gprintf("modules: %u\n", m->mods_count);
    const uint32_t *mod = (const uint32_t *)m->mods_addr;
    for (uint32_t i = 0; i < m->mods_count; i++, mod += 4) {
        const char *str = (const char *)mod[2], *data = (const char *)mod[0];
        gprintf("module %u: '%s', %u bytes: ", i, str, mod[1] - mod[0]);
        for (uint32_t k = 0; k < mod[1] - mod[0] && k < 40; k++) gprintf("%c", data[k] >= 32 && data[k] < 127 ? data[k] : '.');
        gprintf("\n");
        check_eq(mod[0] & 0xfff, 0, "module %u starts on a page", i);
    }
    return summary("mbinfo");
}

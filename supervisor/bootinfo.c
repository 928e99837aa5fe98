/* Reading the Multiboot info: memory map, modules, and every range the loader used. */
#include "supervisor/bootinfo.h"
#include "boot/multiboot.h"
#include "lib/string.h"

struct boot_info boot;
extern uint8_t __kernel_start[], __kernel_end[];

/* Record a range the loader or the kernel occupies. */
static void busy(uint64_t base, uint64_t len, uint8_t owner)
{
    if (len && boot.nbusy < sizeof boot.busy / sizeof boot.busy[0])
        boot.busy[boot.nbusy++] = (struct mem_range){ base, len, owner };
}

static void busy_string(const char *s, uint8_t owner)
{
    if (s) busy((uint32_t)s, strlen(s) + 1, owner);
}

/* Append a memory-map range to a list, dropping what does not fit. */
static void add(struct mem_range *list, size_t *n, uint64_t base, uint64_t len)
{
    if (len && *n < BOOT_MAX_RANGES) list[(*n)++] = (struct mem_range){ base, len, 0 };
}

void bootinfo_read(uint32_t mbi_phys)
{
    const struct mb_info *mbi = (const struct mb_info *)mbi_phys;
    memset(&boot, 0, sizeof boot);
    busy((uint32_t)__kernel_start, (uint32_t)(__kernel_end - __kernel_start), FRAME_KERNEL);
    busy(mbi_phys, sizeof *mbi, FRAME_BOOTINFO);
    boot.cmdline = (mbi->flags & MB_INFO_CMDLINE) ? (const char *)mbi->cmdline : "";
    busy_string((mbi->flags & MB_INFO_CMDLINE) ? boot.cmdline : 0, FRAME_BOOTINFO);
    if (mbi->flags & MB_INFO_LOADER_NAME) busy_string((const char *)mbi->boot_loader_name, FRAME_BOOTINFO);

    if (mbi->flags & MB_INFO_MMAP) {
        boot.from_mmap = true;
        busy(mbi->mmap_addr, mbi->mmap_length, FRAME_BOOTINFO);
        uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
        while (p + sizeof(struct mb_mmap_entry) <= end) {
            const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
            if (e->type == MB_MMAP_AVAILABLE) add(boot.ram, &boot.nram, e->addr, e->len);
            else add(boot.avoid, &boot.navoid, e->addr, e->len);
            if (e->size < 20) break;            /* a malformed entry would loop forever */
            p += e->size + 4;
        }
    } else if (mbi->flags & MB_INFO_MEM) {
        add(boot.ram, &boot.nram, 0, (uint64_t)mbi->mem_lower << 10);
        add(boot.ram, &boot.nram, 0x100000, (uint64_t)mbi->mem_upper << 10);
    }

    if (mbi->flags & MB_INFO_MODS) {
        const struct mb_module *m = (const struct mb_module *)mbi->mods_addr;
        busy(mbi->mods_addr, mbi->mods_count * sizeof *m, FRAME_BOOTINFO);
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
            if (boot.nmods == BOOT_MAX_MODULES) { boot.mods_dropped++; continue; }
            struct boot_module *b = &boot.mods[boot.nmods++];
            b->start = m[i].mod_start;
            b->end = m[i].mod_end > m[i].mod_start ? m[i].mod_end : m[i].mod_start;
            b->string = m[i].string ? (const char *)m[i].string : "";
            busy(b->start, b->end - b->start, FRAME_MODULE);
            busy_string(m[i].string ? b->string : 0, FRAME_BOOTINFO);
        }
    }
}

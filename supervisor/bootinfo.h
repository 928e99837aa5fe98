/* What the boot loader handed umbra, checked and copied out of the Multiboot info. */
#ifndef SUPERVISOR_BOOTINFO_H
#define SUPERVISOR_BOOTINFO_H
#include <stdbool.h>
#include <stdint.h>
#include "pool/frame.h"

#define BOOT_MAX_RANGES 64
#define BOOT_MAX_MODULES 32

struct boot_module {
    uint32_t start, end;        /* physical, [start, end) */
    const char *string;         /* the module's command line ("" if none) */
};

struct boot_info {
    const char *cmdline;
    struct mem_range ram[BOOT_MAX_RANGES];     size_t nram;
    struct mem_range avoid[BOOT_MAX_RANGES];   size_t navoid;
    struct mem_range busy[BOOT_MAX_RANGES + BOOT_MAX_MODULES * 2]; size_t nbusy;
    struct boot_module mods[BOOT_MAX_MODULES]; size_t nmods;
    size_t mods_dropped;                       /* modules past BOOT_MAX_MODULES */
    bool from_mmap;                            /* memory from the full map, not mem_lower/upper */
};
extern struct boot_info boot;

/* Read the Multiboot info at `mbi` (identity-mapped) into `boot`. */
void bootinfo_read(uint32_t mbi);

#endif

/* Multiboot (version 1) structures and constants, as the specification defines them. */
#ifndef BOOT_MULTIBOOT_H
#define BOOT_MULTIBOOT_H
#include <stdint.h>

#define MB_HEADER_MAGIC     0x1BADB002u
#define MB_BOOT_MAGIC       0x2BADB002u   /* in EAX when a loader enters the kernel */

/* Header flags. */
#define MB_HF_PAGE_ALIGN    (1u << 0)
#define MB_HF_MEMINFO       (1u << 1)
#define MB_HF_VIDEO         (1u << 2)
#define MB_HF_ADDRESSES     (1u << 16)

/* Info flags: which fields of struct mb_info are valid. */
#define MB_INFO_MEM         (1u << 0)
#define MB_INFO_BOOTDEV     (1u << 1)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_AOUT_SYMS   (1u << 4)
#define MB_INFO_ELF_SHDR    (1u << 5)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_DRIVES      (1u << 7)
#define MB_INFO_CONFIG      (1u << 8)
#define MB_INFO_LOADER_NAME (1u << 9)
#define MB_INFO_APM         (1u << 10)
#define MB_INFO_VBE         (1u << 11)

#define MB_MMAP_AVAILABLE   1u
#define MB_MMAP_RESERVED    2u

/* boot_device: BIOS drive 0x80 (the first hard disk), no partition (QEMU's -kernel gives this). */
#define MB_BOOTDEV_WHOLE_DISK0 0x8000ffffu

struct mb_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
    uint32_t mode_type, width, height, depth;
};

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;          /* KiB from 0 and from 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info, vbe_mode_info;
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

struct mb_module {
    uint32_t mod_start, mod_end;
    uint32_t string;
    uint32_t reserved;
};

/* A memory-map entry; `size` does not count itself, entries follow at +size+4. */
struct __attribute__((packed)) mb_mmap_entry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
};

#endif

/* A guest kernel image as a Multiboot loader sees it: decoded (every check, nothing changed)
 * from an ELF file or from the load addresses of its Multiboot header (the a.out kludge). */
#ifndef SUPERVISOR_KIMAGE_H
#define SUPERVISOR_KIMAGE_H
#include <stdbool.h>
#include <stdint.h>

/* Guest-physical memory a loader must leave alone: the Multiboot info and memory map
 * (0x9000 and 0x9500, where QEMU's loader puts them too). */
#define GUEST_MBI_BASE 0x9000u
#define GUEST_MBI_END  0xa000u

struct kimage {
    const uint8_t *file;
    uint32_t size;
    bool kludge;            /* loaded by the header's addresses, not by ELF program headers */
    uint32_t low, high;     /* the guest-physical span it occupies, BSS included: [low, high) */
    uint32_t entry;         /* guest-physical entry point */
    uint32_t file_off;      /* kludge: where the bytes loaded at `low` start in the file */
    uint32_t load_size;     /* kludge: bytes copied from the file; the rest up to high is zeroed */
};

/* Where to put bytes: copy n bytes from src (or zeros when src is NULL) to guest-physical gpa. */
typedef void (*kimage_put)(void *ctx, uint32_t gpa, const void *src, uint32_t n);

/* Decode [file, file+size) as a Multiboot kernel for a guest with mem bytes of RAM; false with
 * the reason in why. */
bool kimage_decode(const uint8_t *file, uint32_t size, uint64_t mem, struct kimage *k, char *why, unsigned whylen);
/* Copy a decoded image into guest memory: its bytes, and zeros for its BSS. */
void kimage_load(const struct kimage *k, kimage_put put, void *ctx);

#endif

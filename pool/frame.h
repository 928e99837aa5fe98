/* The physical frame allocator: every 4 KiB frame below 4 GiB has exactly one owner. */
#ifndef POOL_FRAME_H
#define POOL_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The owner map is the single source of truth: one byte per frame says who owns it.
 * A frame cannot be owned twice because it has one byte; it cannot be lost because
 * every change goes through frame_alloc/frame_free/frame_give, which check the old
 * owner and keep per-owner counts, and frame_audit recounts the map against them.
 */
enum frame_owner {
    FRAME_ABSENT = 0,    /* not RAM, reserved by firmware, or a partial page */
    FRAME_FREE,
    FRAME_LOWMEM,        /* usable RAM below 1 MiB, left to firmware and real-mode use */
    FRAME_KERNEL,        /* umbra's own image */
    FRAME_MODULE,        /* a Multiboot module (guest image, disk) */
    FRAME_BOOTINFO,      /* the Multiboot info, memory map, command lines */
    FRAME_HOST,          /* allocated by the supervisor: page tables, the owner map */
    FRAME_VM_FIRST = 16, /* frames owned by VM n carry FRAME_VM_FIRST + n */
    FRAME_OWNERS = 256
};
#define FRAME_VM(n) ((uint8_t)(FRAME_VM_FIRST + (n)))
#define FRAME_MAX_VMS (FRAME_OWNERS - FRAME_VM_FIRST)

/* A physical range [base, base+len); owner tags a reserved range. */
struct mem_range { uint64_t base, len; uint8_t owner; };

struct frame_map {
    uint8_t *owner;              /* owner[pfn], pfn < nframes */
    uint32_t nframes;            /* frames covered by the map (up to the top of usable RAM) */
    uint32_t count[FRAME_OWNERS];
    uint32_t cursor;             /* where the next allocation search starts */
    uint64_t ignored_bytes;      /* usable RAM above 4 GiB, which umbra does not use */
    uint64_t map_phys;           /* where the owner map itself lives */
};

#define FRAME_LOWMEM_END 0x100000ull
#define FRAME_LIMIT_4G   0x100000000ull

/* Bytes the owner map needs for this memory map (0 when there is no usable RAM). */
uint64_t frame_map_bytes(const struct mem_range *ram, size_t nram);
/* Find page-aligned room for `bytes` above 1 MiB inside usable RAM, clear of `busy`. */
bool frame_find_room(const struct mem_range *ram, size_t nram, const struct mem_range *avoid,
                     size_t navoid, const struct mem_range *busy, size_t nbusy,
                     uint64_t bytes, uint64_t *phys);
/* Build the map in `storage` (frame_map_bytes long, at physical map_phys). `ram` lists usable
 * RAM, `avoid` firmware-reserved ranges (they win over ram where they overlap), `busy` the
 * ranges already in use with their owner tag. */
void frame_init(struct frame_map *m, uint8_t *storage, uint64_t map_phys,
                const struct mem_range *ram, size_t nram,
                const struct mem_range *avoid, size_t navoid,
                const struct mem_range *busy, size_t nbusy);
/* Take one free frame for `owner`; returns its frame number, 0 when none is left. */
uint32_t frame_alloc(struct frame_map *m, uint8_t owner);
/* Take `n` physically contiguous free frames for `owner`; first frame number or 0. */
uint32_t frame_alloc_run(struct frame_map *m, uint8_t owner, uint32_t n);
/* Give frame pfn back; false (nothing changed) unless `owner` owns it. */
bool frame_free(struct frame_map *m, uint32_t pfn, uint8_t owner);
/* Move frame pfn from owner `from` to owner `to`; false (nothing changed) unless `from` owns it. */
bool frame_give(struct frame_map *m, uint32_t pfn, uint8_t from, uint8_t to);
/* The owner of frame pfn (FRAME_ABSENT past the map). */
uint8_t frame_owner_of(const struct frame_map *m, uint32_t pfn);
/* Recount the map against the per-owner counts; returns the number of owners that disagree. */
unsigned frame_audit(const struct frame_map *m);
/* Usable frames: everything that is not absent. */
uint32_t frame_usable(const struct frame_map *m);
/* A short name for an owner tag ("free", "kernel", "vm3", ...), written into buf. */
const char *frame_owner_name(uint8_t owner, char *buf, size_t size);

#endif

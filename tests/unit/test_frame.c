/* Frame allocator: memory maps with overlaps, holes, odd modules, >4 GiB, empty. */
#include "tests/unit/unit.h"
#include "pool/frame.h"
#include <stdlib.h>

#define MiB (1ull << 20)
#define KiB (1ull << 10)

static struct frame_map m;
static uint8_t *storage;

/* Build a map the way the boot code does: find room for the owner map, then init. */
static bool build(const struct mem_range *ram, size_t nram, const struct mem_range *avoid, size_t navoid,
                  const struct mem_range *busy, size_t nbusy)
{
    uint64_t bytes = frame_map_bytes(ram, nram), phys = 0;
    free(storage);
    storage = calloc(1, bytes ? bytes : 1);
    if (bytes && !frame_find_room(ram, nram, avoid, navoid, busy, nbusy, bytes, &phys)) return false;
    frame_init(&m, storage, phys, ram, nram, avoid, navoid, busy, nbusy);
    return true;
}

/* Every owner count agrees with a recount, and the total is the map size. */
static void check_consistent(void)
{
    uint64_t sum = 0;
    for (unsigned o = 0; o < FRAME_OWNERS; o++) sum += m.count[o];
    CHECK_EQ(sum, m.nframes);
    CHECK_EQ(frame_audit(&m), 0);
}

TEST(frame_simple_pc)
{
    /* A QEMU-like 32 MiB PC: 0..639K, 1M..32M, with the kernel at 1M. */
    struct mem_range ram[] = { { 0, 640 * KiB, 0 }, { MiB, 31 * MiB, 0 } };
    struct mem_range busy[] = { { MiB, 200 * KiB, FRAME_KERNEL } };
    CHECK(build(ram, 2, 0, 0, busy, 1));
    CHECK_EQ(m.nframes, 32 * MiB / 4096);
    CHECK_EQ(m.count[FRAME_LOWMEM], 160);
    CHECK_EQ(m.count[FRAME_KERNEL], 50);
    CHECK_EQ(m.count[FRAME_HOST], 2);               /* 8192-byte owner map */
    CHECK_EQ(m.count[FRAME_FREE], 31 * 256 - 50 - 2);
    CHECK(m.map_phys >= MiB + 200 * KiB);          /* not on top of the kernel */
    CHECK_EQ(frame_usable(&m), 160 + 31 * 256);
    check_consistent();
}

TEST(frame_alloc_free_accounting)
{
    struct mem_range ram[] = { { MiB, 4 * MiB, 0 } };
    CHECK(build(ram, 1, 0, 0, 0, 0));
    uint32_t free0 = m.count[FRAME_FREE];
    uint32_t a = frame_alloc(&m, FRAME_VM(0));
    uint32_t b = frame_alloc(&m, FRAME_VM(1));
    CHECK(a && b && a != b);
    CHECK_EQ(frame_owner_of(&m, a), FRAME_VM(0));
    CHECK_EQ(m.count[FRAME_FREE], free0 - 2);
    /* The wrong owner cannot free or give a frame: nothing changes. */
    CHECK(!frame_free(&m, a, FRAME_VM(1)));
    CHECK(!frame_give(&m, a, FRAME_VM(1), FRAME_HOST));
    CHECK_EQ(frame_owner_of(&m, a), FRAME_VM(0));
    /* A hand-back from one VM to another. */
    CHECK(frame_give(&m, a, FRAME_VM(0), FRAME_VM(1)));
    CHECK_EQ(m.count[FRAME_VM(1)], 2);
    CHECK(frame_free(&m, a, FRAME_VM(1)));
    CHECK(!frame_free(&m, a, FRAME_VM(1)));        /* double free refused */
    CHECK(frame_free(&m, b, FRAME_VM(1)));
    CHECK_EQ(m.count[FRAME_FREE], free0);
    /* Never below 1 MiB, never absent frames, never out of range. */
    CHECK(!frame_free(&m, 5, FRAME_ABSENT));
    CHECK(!frame_free(&m, m.nframes + 10, FRAME_VM(0)));
    check_consistent();
}

TEST(frame_exhaust)
{
    struct mem_range ram[] = { { MiB, 64 * KiB, 0 } };
    CHECK(build(ram, 1, 0, 0, 0, 0));
    uint32_t n = 0, pfn;
    while ((pfn = frame_alloc(&m, FRAME_HOST)) != 0) {
        CHECK(pfn >= 256);
        n++;
        if (n > 100) break;
    }
    CHECK_EQ(n, 16 - 1);                           /* one frame holds the owner map */
    CHECK_EQ(m.count[FRAME_FREE], 0);
    CHECK_EQ(frame_alloc(&m, FRAME_HOST), 0);
    check_consistent();
}

TEST(frame_overlaps_and_holes)
{
    /* Overlapping available entries; a reserved entry inside available RAM wins; a hole. */
    struct mem_range ram[] = { { MiB, 8 * MiB, 0 }, { 4 * MiB, 8 * MiB, 0 }, { 16 * MiB, 4 * MiB, 0 } };
    struct mem_range avoid[] = { { 6 * MiB + 100, 10, 0 } };   /* touches one page */
    CHECK(build(ram, 3, avoid, 1, 0, 0));
    CHECK_EQ(m.nframes, 20 * MiB / 4096);
    CHECK_EQ(frame_owner_of(&m, (6 * MiB) / 4096), FRAME_ABSENT);
    CHECK_EQ(frame_owner_of(&m, (6 * MiB) / 4096 + 1), FRAME_FREE);
    CHECK_EQ(frame_owner_of(&m, (13 * MiB) / 4096), FRAME_ABSENT);   /* the hole */
    CHECK_EQ(frame_usable(&m), (11 + 4) * 256 - 1);
    check_consistent();
}

TEST(frame_unaligned_ranges_and_modules)
{
    /* RAM that starts and ends mid-page: only whole pages count. Modules at odd
     * addresses claim every page they touch. */
    struct mem_range ram[] = { { MiB + 10, 2 * MiB - 20, 0 } };
    struct mem_range busy[] = { { MiB + 4096 + 4000, 200, FRAME_MODULE },
                                { MiB + 3 * 4096 + 1, 4096, FRAME_BOOTINFO } };
    CHECK(build(ram, 1, 0, 0, busy, 2));
    CHECK_EQ(frame_owner_of(&m, 256), FRAME_ABSENT);    /* first partial page */
    CHECK_EQ(frame_owner_of(&m, 257), FRAME_MODULE);
    CHECK_EQ(frame_owner_of(&m, 258), FRAME_MODULE);
    CHECK_EQ(frame_owner_of(&m, 259), FRAME_BOOTINFO);
    CHECK_EQ(frame_owner_of(&m, 260), FRAME_BOOTINFO);
    CHECK_EQ(m.nframes, (3 * MiB - 10) / 4096);          /* last partial page excluded */
    CHECK(m.map_phys >= MiB + 5 * 4096);                /* owner map avoids the busy pages */
    check_consistent();
}

TEST(frame_above_4g)
{
    /* 3 GiB below the PCI hole, 5 GiB above 4 GiB, and one entry crossing 4 GiB. */
    struct mem_range ram[] = { { MiB, 3072 * MiB - MiB, 0 }, { 0xF0000000ull, 0x20000000ull, 0 },
                               { 0x100000000ull, 5ull << 30, 0 } };
    CHECK(build(ram, 3, 0, 0, 0, 0));
    CHECK_EQ(m.nframes, 0x100000000ull / 4096);
    CHECK_EQ(m.ignored_bytes, (5ull << 30) + 0x10000000ull);
    CHECK_EQ(frame_owner_of(&m, 0xFFFFF), FRAME_FREE);
    CHECK_EQ(frame_owner_of(&m, 0xD0000), FRAME_ABSENT);
    check_consistent();
}

TEST(frame_empty_map)
{
    CHECK_EQ(frame_map_bytes(0, 0), 0);
    CHECK(build(0, 0, 0, 0, 0, 0));
    CHECK_EQ(m.nframes, 0);
    CHECK_EQ(frame_alloc(&m, FRAME_HOST), 0);
    CHECK_EQ(frame_usable(&m), 0);
    check_consistent();
    /* Only low memory: nothing above 1 MiB for the map to live in. */
    struct mem_range low[] = { { 0, 640 * KiB, 0 } };
    uint64_t phys;
    CHECK(!frame_find_room(low, 1, 0, 0, 0, 0, frame_map_bytes(low, 1), &phys));
}

TEST(frame_alloc_run)
{
    struct mem_range ram[] = { { MiB, 2 * MiB, 0 } };
    CHECK(build(ram, 1, 0, 0, 0, 0));
    uint32_t a = frame_alloc(&m, FRAME_HOST);
    CHECK(a);
    uint32_t r = frame_alloc_run(&m, FRAME_VM(2), 64);
    CHECK(r);
    for (uint32_t i = 0; i < 64; i++) CHECK_EQ(frame_owner_of(&m, r + i), FRAME_VM(2));
    CHECK_EQ(frame_alloc_run(&m, FRAME_VM(2), 100000), 0);
    check_consistent();
}

TEST(frame_owner_names)
{
    char b[16];
    CHECK(!strcmp(frame_owner_name(FRAME_FREE, b, sizeof b), "free"));
    CHECK(!strcmp(frame_owner_name(FRAME_VM(3), b, sizeof b), "vm3"));
}

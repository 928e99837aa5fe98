/* The physical frame allocator over the boot memory map, with per-owner accounting. */
#include "pool/frame.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "arch/x86/mmu.h"

/* Clip [base, base+len) to below 4 GiB; returns the clipped end. */
static uint64_t end_below_4g(uint64_t base, uint64_t len)
{
    uint64_t end = base + len;
    if (end < base) end = ~0ull;           /* a map entry that wraps: treat as to the top */
    return end > FRAME_LIMIT_4G ? FRAME_LIMIT_4G : end;
}

uint64_t frame_map_bytes(const struct mem_range *ram, size_t nram)
{
    uint64_t top = 0;
    for (size_t i = 0; i < nram; i++) {
        if (ram[i].base >= FRAME_LIMIT_4G) continue;
        uint64_t end = PAGE_ALIGN_DOWN(end_below_4g(ram[i].base, ram[i].len));
        if (end > PAGE_ALIGN_UP(ram[i].base) && end > top) top = end;
    }
    return PAGE_ALIGN_UP(top >> PAGE_SHIFT);
}

static bool overlaps(uint64_t b, uint64_t e, const struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t rb = r[i].base, re = r[i].base + r[i].len;
        if (re < rb) re = ~0ull;
        if (r[i].len && b < re && rb < e) return true;
    }
    return false;
}

bool frame_find_room(const struct mem_range *ram, size_t nram, const struct mem_range *avoid,
                     size_t navoid, const struct mem_range *busy, size_t nbusy,
                     uint64_t bytes, uint64_t *phys)
{
    bytes = PAGE_ALIGN_UP(bytes);
    for (size_t i = 0; i < nram; i++) {
        uint64_t b = PAGE_ALIGN_UP(ram[i].base);
        uint64_t e = PAGE_ALIGN_DOWN(end_below_4g(ram[i].base, ram[i].len));
        if (b < FRAME_LOWMEM_END) b = FRAME_LOWMEM_END;
        /* Step through the range a page at a time past anything in the way. */
        while (b + bytes <= e && b + bytes > b) {
            if (!overlaps(b, b + bytes, avoid, navoid) && !overlaps(b, b + bytes, busy, nbusy)) {
                *phys = b;
                return true;
            }
            b += PAGE_SIZE;
        }
    }
    return false;
}

static void set_owner(struct frame_map *m, uint32_t pfn, uint8_t owner)
{
    m->count[m->owner[pfn]]--;
    m->owner[pfn] = owner;
    m->count[owner]++;
}

void frame_init(struct frame_map *m, uint8_t *storage, uint64_t map_phys,
                const struct mem_range *ram, size_t nram,
                const struct mem_range *avoid, size_t navoid,
                const struct mem_range *busy, size_t nbusy)
{
    memset(m, 0, sizeof *m);
    m->owner = storage;
    m->map_phys = map_phys;
    /* nframes: the top of usable RAM in frames (the map is padded to a whole page). */
    uint64_t top = 0;
    for (size_t i = 0; i < nram; i++) {
        uint64_t e;
        if (ram[i].base >= FRAME_LIMIT_4G) {
            m->ignored_bytes += ram[i].len;
            continue;
        }
        e = end_below_4g(ram[i].base, ram[i].len);
        if (ram[i].base + ram[i].len > FRAME_LIMIT_4G)
            m->ignored_bytes += ram[i].base + ram[i].len - FRAME_LIMIT_4G;
        e = PAGE_ALIGN_DOWN(e);
        if (e > PAGE_ALIGN_UP(ram[i].base) && e > top) top = e;
    }
    m->nframes = (uint32_t)(top >> PAGE_SHIFT);
    if (!m->nframes) return;
    memset(storage, FRAME_ABSENT, m->nframes);
    m->count[FRAME_ABSENT] = m->nframes;

    /* Usable RAM: whole pages inside an available range. */
    for (size_t i = 0; i < nram; i++) {
        if (ram[i].base >= FRAME_LIMIT_4G) continue;
        uint64_t b = PAGE_ALIGN_UP(ram[i].base);
        uint64_t e = PAGE_ALIGN_DOWN(end_below_4g(ram[i].base, ram[i].len));
        for (uint64_t a = b; a < e; a += PAGE_SIZE) {
            uint32_t pfn = (uint32_t)(a >> PAGE_SHIFT);
            if (m->owner[pfn] == FRAME_ABSENT)
                set_owner(m, pfn, a < FRAME_LOWMEM_END ? FRAME_LOWMEM : FRAME_FREE);
        }
    }
    /* Firmware-reserved ranges win where they overlap RAM: any page they touch. */
    for (size_t i = 0; i < navoid; i++) {
        if (!avoid[i].len || avoid[i].base >= FRAME_LIMIT_4G) continue;
        uint64_t b = PAGE_ALIGN_DOWN(avoid[i].base);
        uint64_t e = PAGE_ALIGN_UP(end_below_4g(avoid[i].base, avoid[i].len));
        for (uint64_t a = b; a < e && (a >> PAGE_SHIFT) < m->nframes; a += PAGE_SIZE)
            set_owner(m, (uint32_t)(a >> PAGE_SHIFT), FRAME_ABSENT);
    }
    /* Ranges in use: any page they touch belongs to their owner. */
    for (size_t i = 0; i < nbusy; i++) {
        if (!busy[i].len || busy[i].base >= FRAME_LIMIT_4G) continue;
        uint64_t b = PAGE_ALIGN_DOWN(busy[i].base);
        uint64_t e = PAGE_ALIGN_UP(end_below_4g(busy[i].base, busy[i].len));
        for (uint64_t a = b; a < e && (a >> PAGE_SHIFT) < m->nframes; a += PAGE_SIZE) {
            uint32_t pfn = (uint32_t)(a >> PAGE_SHIFT);
            if (m->owner[pfn] == FRAME_FREE) set_owner(m, pfn, busy[i].owner);
        }
    }
    /* The owner map itself. */
    uint64_t mb = PAGE_ALIGN_UP(m->nframes);
    for (uint64_t a = map_phys; a < map_phys + mb && (a >> PAGE_SHIFT) < m->nframes; a += PAGE_SIZE) {
        uint32_t pfn = (uint32_t)(a >> PAGE_SHIFT);
        if (m->owner[pfn] == FRAME_FREE) set_owner(m, pfn, FRAME_HOST);
    }
    m->cursor = (uint32_t)(FRAME_LOWMEM_END >> PAGE_SHIFT);
}

uint32_t frame_alloc(struct frame_map *m, uint8_t owner)
{
    if (!m->count[FRAME_FREE] || owner == FRAME_FREE || owner == FRAME_ABSENT) return 0;
    for (uint32_t i = 0; i < m->nframes; i++) {
        uint32_t pfn = m->cursor + i;
        if (pfn >= m->nframes) pfn -= m->nframes;
        if (m->owner[pfn] == FRAME_FREE) {
            set_owner(m, pfn, owner);
            m->cursor = pfn + 1 < m->nframes ? pfn + 1 : 0;
            return pfn;
        }
    }
    return 0;
}

uint32_t frame_alloc_run(struct frame_map *m, uint8_t owner, uint32_t n)
{
    if (!n || n > m->count[FRAME_FREE] || owner == FRAME_FREE || owner == FRAME_ABSENT) return 0;
    uint32_t run = 0;
    for (uint32_t pfn = 1; pfn < m->nframes; pfn++) {
        run = m->owner[pfn] == FRAME_FREE ? run + 1 : 0;
        if (run == n) {
            uint32_t first = pfn + 1 - n;
            for (uint32_t p = first; p <= pfn; p++) set_owner(m, p, owner);
            return first;
        }
    }
    return 0;
}

bool frame_free(struct frame_map *m, uint32_t pfn, uint8_t owner)
{
    return frame_give(m, pfn, owner, FRAME_FREE);
}

bool frame_give(struct frame_map *m, uint32_t pfn, uint8_t from, uint8_t to)
{
    if (pfn >= m->nframes || m->owner[pfn] != from) return false;
    if (from == FRAME_ABSENT || to == FRAME_ABSENT) return false;
    set_owner(m, pfn, to);
    return true;
}

uint8_t frame_owner_of(const struct frame_map *m, uint32_t pfn)
{
    return pfn < m->nframes ? m->owner[pfn] : FRAME_ABSENT;
}

unsigned frame_audit(const struct frame_map *m)
{
    uint32_t seen[FRAME_OWNERS];
    unsigned bad = 0;
    memset(seen, 0, sizeof seen);
    for (uint32_t pfn = 0; pfn < m->nframes; pfn++) seen[m->owner[pfn]]++;
    for (unsigned o = 0; o < FRAME_OWNERS; o++)
        if (seen[o] != m->count[o]) bad++;
    return bad;
}

uint32_t frame_usable(const struct frame_map *m)
{
    return m->nframes - m->count[FRAME_ABSENT];
}

const char *frame_owner_name(uint8_t owner, char *buf, size_t size)
{
    static const char *const names[] = { "absent", "free", "lowmem", "kernel", "module",
                                         "bootinfo", "host" };
    if (owner < sizeof names / sizeof names[0]) snfmt(buf, size, "%s", names[owner]);
    else if (owner >= FRAME_VM_FIRST) snfmt(buf, size, "vm%u", (unsigned)(owner - FRAME_VM_FIRST));
    else snfmt(buf, size, "owner%u", (unsigned)owner);
    return buf;
}

/* The host's physical memory: building the frame map at boot, reporting and auditing it. */
#include "supervisor/memory.h"
#include "supervisor/bootinfo.h"
#include "supervisor/log.h"
#include "arch/x86/mmu.h"

struct frame_map frames;

void memory_init(void)
{
    uint64_t bytes = frame_map_bytes(boot.ram, boot.nram), phys;
    if (!bytes) panic("the boot loader reported no usable memory");
    if (!frame_find_room(boot.ram, boot.nram, boot.avoid, boot.navoid, boot.busy, boot.nbusy, bytes, &phys))
        panic("no room above 1 MiB for the frame map (%u KiB); this machine has too little memory",
              (unsigned)(bytes >> 10));
    frame_init(&frames, (uint8_t *)(uint32_t)phys, phys, boot.ram, boot.nram, boot.avoid, boot.navoid,
               boot.busy, boot.nbusy);
    uint64_t usable = (uint64_t)frame_usable(&frames) << PAGE_SHIFT;
    if (usable < UMBRA_MIN_RAM)
        panic("this machine has %u KiB of usable memory; umbra needs at least %u MiB",
              (unsigned)(usable >> 10), UMBRA_MIN_RAM >> 20);
}

void memory_report(const char *when)
{
    char name[16];
    kprintf("memory%s: %u frames usable (%u MiB):", when, frame_usable(&frames),
            (unsigned)(((uint64_t)frame_usable(&frames) << PAGE_SHIFT) >> 20));
    for (unsigned o = FRAME_FREE; o < FRAME_OWNERS; o++)
        if (frames.count[o])
            kprintf(" %s %u", frame_owner_name((uint8_t)o, name, sizeof name), frames.count[o]);
    kprintf("\n");
    if (frames.ignored_bytes)
        kprintf("memory: %u MiB above 4 GiB not used\n", (unsigned)(frames.ignored_bytes >> 20));
}

unsigned memory_audit(void)
{
    unsigned bad = frame_audit(&frames);
    if (bad) kprintf("memory: audit FAILED: %u owner counts disagree with the frame map\n", bad);
    else kprintf("memory: audit ok: every frame has exactly one owner\n");
    return bad;
}

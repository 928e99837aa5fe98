/* Building a VM: guest RAM, the monitor region with its image, pool and tables, and the
 * trampoline that lets the world switch change CR3 from a page both sides map. */
#include "supervisor/vm.h"
#include "supervisor/memory.h"
#include "supervisor/hostmap.h"
#include "supervisor/log.h"
#include "arch/x86/gdt.h"
#include "supervisor/watchdog.h"
#include "supervisor/clock.h"
#include "arch/x86/cpu.h"
#include "lib/string.h"
#include "lib/fmt.h"

struct vm vms[MAX_VMS];
unsigned nvms;
extern const uint8_t monitor_blob[], monitor_blob_end[];
extern void world_host_resume(void);
static uint32_t ones_pfn;

#define POOL_INITIAL 32u

/* A zeroed frame owned by the VM, or 0 when the host has none left. */
static uint32_t vm_frame(struct vm *vm)
{
    uint32_t pfn = frame_alloc(&frames, FRAME_VM(vm->id));
    if (pfn) memset((void *)(pfn << PAGE_SHIFT), 0, PAGE_SIZE);
    return pfn;
}

/* Map host frame pfn at offset off of the monitor region (supervisor-only). */
static void region_map(struct vm *vm, uint32_t off, uint32_t pfn)
{
    vm->rpt[off >> 21][(off >> PAGE_SHIFT) & (PAE_ENTRIES - 1)] =
        pfn ? (((pae_entry_t)pfn << PAGE_SHIFT) | PTE_P | PTE_W) : 0;
}

/* The host frame mapped at region offset off. */
static uint32_t region_frame(struct vm *vm, uint32_t off)
{
    return (uint32_t)((vm->rpt[off >> 21][(off >> PAGE_SHIFT) & (PAE_ENTRIES - 1)] & PAE_ADDR_MASK) >> PAGE_SHIFT);
}

/* The host's pointer to region offset off (the frame behind it is identity-mapped). */
static void *region_ptr(struct vm *vm, uint32_t off)
{
    return (void *)((region_frame(vm, off) << PAGE_SHIFT) | (off & (PAGE_SIZE - 1)));
}

void *vm_gpa(struct vm *vm, uint32_t gpa)
{
    uint32_t pfn = *(uint32_t *)region_ptr(vm, MON_OFF_GFT + (gpa >> PAGE_SHIFT) * 4) & GFT_FRAME;
    return (void *)((pfn << PAGE_SHIFT) | (gpa & (PAGE_SIZE - 1)));
}

/* The trampoline: the host's page tables with the transition page also mapped at each
 * address in `at` (one, or two while the monitor moves). Only the directories and tables on
 * the way to those pages are copies; the rest is shared with the host. */
static bool build_trampoline(struct vm *vm, const uint32_t *at, unsigned n)
{
    uint32_t old[6], nold = vm->ntramp;
    memcpy(old, vm->tramp_frames, sizeof old);
    vm->ntramp = 0;
    uint32_t pdpt_pfn = vm_frame(vm);
    if (!pdpt_pfn) return false;
    vm->tramp_frames[vm->ntramp++] = pdpt_pfn;
    pae_entry_t *host_pdpt = (pae_entry_t *)host_cr3, *pdpt = (pae_entry_t *)(pdpt_pfn << PAGE_SHIFT);
    memcpy(pdpt, host_pdpt, 4 * sizeof *pdpt);
    for (unsigned k = 0; k < n; k++) {
        uint32_t va = at[k];
        pae_entry_t *pd;
        if ((pdpt[PAE_PDPT_INDEX(va)] & PAE_ADDR_MASK) == (host_pdpt[PAE_PDPT_INDEX(va)] & PAE_ADDR_MASK)) {
            uint32_t pd_pfn = vm_frame(vm);
            if (!pd_pfn) return false;
            vm->tramp_frames[vm->ntramp++] = pd_pfn;
            pd = (pae_entry_t *)(pd_pfn << PAGE_SHIFT);
            memcpy(pd, (void *)(uint32_t)(host_pdpt[PAE_PDPT_INDEX(va)] & PAE_ADDR_MASK), PAGE_SIZE);
            pdpt[PAE_PDPT_INDEX(va)] = ((pae_entry_t)pd_pfn << PAGE_SHIFT) | PTE_P;
        } else {
            pd = (pae_entry_t *)(uint32_t)(pdpt[PAE_PDPT_INDEX(va)] & PAE_ADDR_MASK);
        }
        pae_entry_t pde = pd[PAE_PD_INDEX(va)], *pt;
        bool ours = false;
        for (unsigned i = 1; i < vm->ntramp; i++)
            if ((pde & PAE_ADDR_MASK) == ((pae_entry_t)vm->tramp_frames[i] << PAGE_SHIFT)) ours = true;
        if (ours && !(pde & PTE_PS)) {
            pt = (pae_entry_t *)(uint32_t)(pde & PAE_ADDR_MASK);
        } else {
            uint32_t pt_pfn = vm_frame(vm);
            if (!pt_pfn) return false;
            vm->tramp_frames[vm->ntramp++] = pt_pfn;
            pt = (pae_entry_t *)(pt_pfn << PAGE_SHIFT);
            if ((pde & PTE_P) && (pde & PTE_PS)) {
                for (unsigned i = 0; i < PAE_ENTRIES; i++)
                    pt[i] = ((pde & PAE_ADDR_2M) + i * PAGE_SIZE) | (pde & (PTE_P | PTE_W));
            } else if (pde & PTE_P) {
                memcpy(pt, (void *)(uint32_t)(pde & PAE_ADDR_MASK), PAGE_SIZE);
            }
            pd[PAE_PD_INDEX(va)] = ((pae_entry_t)pt_pfn << PAGE_SHIFT) | PTE_P | PTE_W;
        }
        pt[PAE_PT_INDEX(va)] = ((pae_entry_t)vm->trans_pfn << PAGE_SHIFT) | PTE_P | PTE_W;
    }
    vm->tramp_cr3 = pdpt_pfn << PAGE_SHIFT;
    if (vm->td) vm->td->tramp_cr3 = vm->tramp_cr3;
    for (unsigned i = 0; i < nold; i++) frame_free(&frames, old[i], FRAME_VM(vm->id));
    return true;
}

bool vm_relocate(struct vm *vm, uint32_t to, unsigned phase)
{
    uint32_t at[2] = { to + vm->transition_off, vm->trans_linear };
    if (phase == 0) return build_trampoline(vm, at, 2);
    if (!build_trampoline(vm, at, 1)) return false;
    vm->region = to;
    vm->trans_linear = to + vm->transition_off;
    vm->entry_linear = to + vm->from_host_off;
    return true;
}

uint32_t vm_pool_grow(struct vm *vm, uint32_t n, uint32_t *count)
{
    /* The first run of unbacked slots: slots handed back earlier are backed again. */
    uint32_t first = 0, got = 0;
    while (first < MON_POOL_SLOTS && region_frame(vm, MON_OFF_POOL + first * PAGE_SIZE)) first++;
    while (got < n && first + got < MON_POOL_SLOTS && !region_frame(vm, MON_OFF_POOL + (first + got) * PAGE_SIZE)) {
        uint32_t pfn = vm_frame(vm);
        if (!pfn) break;
        region_map(vm, MON_OFF_POOL + (first + got) * PAGE_SIZE, pfn);
        got++;
    }
    vm->pool_backed += got;
    *count = got;
    return first;
}

void vm_pool_take(struct vm *vm, uint32_t slot)
{
    if (slot >= MON_POOL_SLOTS) return;
    uint32_t off = MON_OFF_POOL + slot * PAGE_SIZE, pfn = region_frame(vm, off);
    if (!pfn || !frame_free(&frames, pfn, FRAME_VM(vm->id)))
        kprintf("umbra: %s: the monitor handed back pool slot %u, which it does not own; ignored\n",
                vm->set.name, slot);
    else {
        region_map(vm, off, 0);
        vm->pool_returned++;
        vm->pool_backed--;
    }
}

void vm_destroy(struct vm *vm)
{
    /* The frame map knows every frame the VM owns: give them all back. */
    for (uint32_t pfn = 0; pfn < frames.nframes; pfn++)
        if (frame_owner_of(&frames, pfn) == FRAME_VM(vm->id)) frame_free(&frames, pfn, FRAME_VM(vm->id));
    vm->state = VM_ENDED;
}

/* Fill the monitor's GDT entries and the transition data: what the switch needs. */
static void setup_switch(struct vm *vm, const struct monitor_header *h, uint32_t root_pfn)
{
    /* The GDT spans 16 pages that need not be contiguous: write each entry through its page. */
    struct seg_desc cs = desc_make(vm->region, MON_REGION_SIZE - 1, DESC_P | DESC_S | DESC_TYPE_CODE_R, DESC_FLAG_DB);
    struct seg_desc ds = desc_make(vm->region, MON_REGION_SIZE - 1, DESC_P | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    struct seg_desc flat = desc_make(0, 0xffffffff, DESC_P | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    *(struct seg_desc *)region_ptr(vm, h->gdt_off + SEL_INDEX(MON_SEL_CS) * 8) = cs;
    *(struct seg_desc *)region_ptr(vm, h->gdt_off + SEL_INDEX(MON_SEL_DS) * 8) = ds;
    *(struct seg_desc *)region_ptr(vm, h->gdt_off + SEL_INDEX(MON_SEL_FLAT) * 8) = flat;
    /* The switch's code segment, the same in the host's GDT and the monitor's. */
    struct seg_desc sw = desc_make(0, 0xffffffff, DESC_P | DESC_S | DESC_TYPE_CODE_R | DESC_TYPE_ACCESSED, DESC_FLAG_DB);
    *(struct seg_desc *)region_ptr(vm, h->gdt_off + SEL_INDEX(SWITCH_SEL_CS) * 8) = sw;
    host_gdt[SEL_INDEX(SWITCH_SEL_CS)] = sw;

    struct transition_data *td = region_ptr(vm, h->transition_off + TRANS_DATA_OFF);
    td->tramp_cr3 = vm->tramp_cr3;
    td->mon_cr3 = root_pfn << PAGE_SHIFT;
    td->host_resume = (struct far_ptr){ (uint32_t)world_host_resume, HOST_CS, 0 };
    td->mon_entry = (struct far_ptr){ h->entry_off, MON_SEL_CS, 0 };
    td->host_gdtr = (struct desc_ptr){ sizeof host_gdt - 1, (uint32_t)host_gdt };
    td->mon_gdtr = (struct desc_ptr){ GDT_ENTRIES * 8 - 1, vm->region + h->gdt_off };
    td->mon_idtr = (struct desc_ptr){ 256 * 8 - 1, vm->region + h->idt_off };
    td->region = vm->region;
    trans_tables_fill(region_ptr(vm, h->transition_off), vm->trans_linear);
    vm->td = td;
}

bool vm_create(struct vm *vm, unsigned id, const struct vm_settings *set, char *why, unsigned whylen)
{
    const struct monitor_header *h = (const struct monitor_header *)monitor_blob;
    memset(vm, 0, sizeof *vm);
    vm->nmi_armed_at = ~0u;                  /* worked out at the first update */
    vm->id = id;
    vm->set = *set;
    vm->region = MON_REGION_DEFAULT;
    vm->started = clock_ns();
    vm->guest_pages = (uint32_t)(set->mem >> PAGE_SHIFT);
    if (h->magic != MON_MAGIC || h->file_size > (uint32_t)(monitor_blob_end - monitor_blob)) {
        snfmt(why, whylen, "the monitor image inside umbra is damaged");
        return false;
    }
    if (set->scan == SCAN_ON && !cpu.nx) {
        snfmt(why, whylen, "scan=on needs a CPU with NX (no-execute pages), and this one has none");
        return false;
    }
    if (vm->guest_pages > MON_GFT_MAX) {
        snfmt(why, whylen, "mem=%uM is more than the %u MiB a VM can have", (unsigned)(set->mem >> 20),
              MON_GFT_MAX >> 8);
        return false;
    }
    uint32_t gft_pages = (vm->guest_pages * 4 + PAGE_SIZE - 1) / PAGE_SIZE;
    uint32_t mon_pages = h->mem_size / PAGE_SIZE;
    uint32_t need = vm->guest_pages + gft_pages + mon_pages + POOL_INITIAL + 16;
    if (need > frames.count[FRAME_FREE]) {
        snfmt(why, whylen, "not enough memory: it needs %u MiB, %u MiB are free", need >> 8,
              frames.count[FRAME_FREE] >> 8);
        return false;
    }
    if (!ones_pfn) {
        ones_pfn = frame_alloc(&frames, FRAME_HOST);
        memset((void *)(ones_pfn << PAGE_SHIFT), 0xff, PAGE_SIZE);
    }
    /* need was checked against the free count, so no allocation below can fail. */
    uint32_t rpt0 = vm_frame(vm), rpt1 = vm_frame(vm);
    vm->rpt[0] = (pae_entry_t *)(rpt0 << PAGE_SHIFT);
    vm->rpt[1] = (pae_entry_t *)(rpt1 << PAGE_SHIFT);
    region_map(vm, MON_OFF_PT, rpt0);
    region_map(vm, MON_OFF_PT + PAGE_SIZE, rpt1);
    for (uint32_t off = 0; off < h->mem_size; off += PAGE_SIZE) {
        uint32_t pfn = vm_frame(vm);
        uint32_t n = h->file_size > off ? h->file_size - off : 0;
        memcpy((void *)(pfn << PAGE_SHIFT), monitor_blob + off, n > PAGE_SIZE ? PAGE_SIZE : n);
        region_map(vm, off, pfn);
    }
    region_map(vm, MON_OFF_SHARED, vm_frame(vm));
    region_map(vm, MON_OFF_RING, vm_frame(vm));
    vm->shared = region_ptr(vm, MON_OFF_SHARED);
    vm->ring = region_ptr(vm, MON_OFF_RING);
    ring_init(vm->ring);
    for (uint32_t i = 0; i < gft_pages; i++) region_map(vm, MON_OFF_GFT + i * PAGE_SIZE, vm_frame(vm));
    uint32_t count;
    vm_pool_grow(vm, POOL_INITIAL, &count);

    /* Guest RAM. */
    for (uint32_t g = 0; g < vm->guest_pages; g++) {
        uint32_t pfn = vm_frame(vm);
        *(uint32_t *)region_ptr(vm, MON_OFF_GFT + g * 4) = pfn;
    }

    /* The first shadow root: PDPT in pool slot 0, directories in slots 1-4, region linked. */
    uint32_t root = region_frame(vm, MON_OFF_POOL);
    pae_entry_t *pdpt = (pae_entry_t *)(root << PAGE_SHIFT);
    for (unsigned i = 0; i < 4; i++)
        pdpt[i] = ((pae_entry_t)region_frame(vm, MON_OFF_POOL + (1 + i) * PAGE_SIZE) << PAGE_SHIFT) | PTE_P;
    pae_entry_t *pd = (pae_entry_t *)(uint32_t)(pdpt[PAE_PDPT_INDEX(vm->region)] & PAE_ADDR_MASK);
    struct vm_shared *s = vm->shared;
    s->region = vm->region;
    s->guest_pages = vm->guest_pages;
    s->region_pt_frame[0] = rpt0;
    s->region_pt_frame[1] = rpt1;
    s->region_pde[0] = ((pae_entry_t)rpt0 << PAGE_SHIFT) | PTE_P | PTE_W;
    s->region_pde[1] = ((pae_entry_t)rpt1 << PAGE_SHIFT) | PTE_P | PTE_W;
    pd[PAE_PD_INDEX(vm->region)] = s->region_pde[0];
    pd[PAE_PD_INDEX(vm->region) + 1] = s->region_pde[1];
    s->ones_frame = ones_pfn;
    s->pool_min = set->pool_min;
    s->watchdog_nmis = watchdog_limit();
    s->pool_max = set->pool_max;
    s->pt = set->pt;
    s->scan = set->scan != SCAN_OFF && set->pt.engine == PT_SHADOW && cpu.nx;
    s->pool_initial = vm->pool_backed;

    vm->transition_off = h->transition_off;
    vm->from_host_off = h->from_host_off;
    vm->trans_linear = vm->region + h->transition_off;
    vm->entry_linear = vm->region + h->from_host_off;
    vm->trans_pfn = region_frame(vm, h->transition_off);
    if (!build_trampoline(vm, &vm->trans_linear, 1)) {
        vm_destroy(vm);
        snfmt(why, whylen, "out of memory for the trampoline");
        return false;
    }
    setup_switch(vm, h, root);
    vm->state = VM_RUNNABLE;
    return true;
}

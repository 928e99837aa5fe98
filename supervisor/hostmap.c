/* The host's address space: an identity map of RAM in PAE format, 2 MiB pages where whole. */
#include "supervisor/hostmap.h"
#include "supervisor/memory.h"
#include "supervisor/log.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"
#include "arch/x86/msr.h"
#include "arch/x86/gdt.h"
#include "lib/string.h"

uint32_t host_cr3;
static pae_entry_t *pdpt;

/* A zeroed host-owned page; umbra cannot run without it. */
static void *host_page(void)
{
    uint32_t pfn = frame_alloc(&frames, FRAME_HOST);
    if (!pfn) panic("out of memory for the host page tables");
    void *p = (void *)(pfn << PAGE_SHIFT);
    memset(p, 0, PAGE_SIZE);
    return p;
}

/* The page directory covering va. */
static pae_entry_t *pd_of(uint32_t va)
{
    return (pae_entry_t *)(uint32_t)(pdpt[PAE_PDPT_INDEX(va)] & PAE_ADDR_MASK);
}

/* The page table for va, made (or split from a 2 MiB page) if there is none. */
static pae_entry_t *pt_of(uint32_t va)
{
    pae_entry_t *pde = &pd_of(va)[PAE_PD_INDEX(va)];
    if ((*pde & PTE_P) && !(*pde & PTE_PS))
        return (pae_entry_t *)(uint32_t)(*pde & PAE_ADDR_MASK);
    pae_entry_t *pt = host_page();
    if (*pde & PTE_PS) {
        uint64_t base = *pde & PAE_ADDR_2M, flags = *pde & ~(PAE_ADDR_2M | PTE_PS);
        for (unsigned i = 0; i < PAE_ENTRIES; i++) pt[i] = (base + i * PAGE_SIZE) | flags;
    }
    *pde = (uint32_t)pt | PTE_P | PTE_W;
    return pt;
}

void hostmap_map(uint32_t va, uint64_t pa, uint64_t flags)
{
    pt_of(va)[PAE_PT_INDEX(va)] = (pa & PAE_ADDR_MASK) | flags;
    if (read_cr0() & CR0_PG) invlpg(va);
}

void hostmap_mmio(uint32_t pa, uint32_t size)
{
    for (uint32_t off = 0; off < size; off += PAGE_SIZE)
        hostmap_map(pa + off, pa + off, PTE_P | PTE_W | PTE_PCD | PTE_PWT);
}

void hostmap_init(void)
{
    pdpt = host_page();
    for (unsigned i = 0; i < 4; i++) pdpt[i] = (uint32_t)host_page() | PTE_P;  /* PDPTEs: P only */

    /* Every 2 MiB region with RAM: a large page when all of it is RAM, else small pages. */
    uint32_t per2m = LARGE_2M / PAGE_SIZE;
    for (uint32_t first = 0; first < frames.nframes; first += per2m) {
        uint32_t ram = 0;
        for (uint32_t i = 0; i < per2m && first + i < frames.nframes; i++)
            if (frame_owner_of(&frames, first + i) != FRAME_ABSENT) ram++;
        uint32_t va = first << PAGE_SHIFT;
        if (ram == per2m && first != 0) {
            pd_of(va)[PAE_PD_INDEX(va)] = va | PTE_P | PTE_W | PTE_PS;
        } else if (ram) {
            for (uint32_t i = 0; i < per2m && first + i < frames.nframes; i++)
                if (frame_owner_of(&frames, first + i) != FRAME_ABSENT)
                    hostmap_map(va + i * PAGE_SIZE, va + i * PAGE_SIZE, PTE_P | PTE_W);
        }
    }
    /* The first MiB whole: BIOS data, VGA text memory, option ROMs. Page 0 stays unmapped
     * so that a null pointer faults. */
    for (uint32_t a = PAGE_SIZE; a < 0x100000; a += PAGE_SIZE) hostmap_map(a, a, PTE_P | PTE_W);
    pt_of(0)[0] = 0;

    host_cr3 = (uint32_t)pdpt;
    if (cpu.nx) wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr4(read_cr4() | CR4_PAE | (cpu.pge ? CR4_PGE : 0));
    write_cr3(host_cr3);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    host_df_tss.cr3 = host_cr3;
}

/* Page-table formats (32-bit and PAE) and page-size constants: named once, used by name. */
#ifndef ARCH_X86_MMU_H
#define ARCH_X86_MMU_H
#include <stdint.h>

#define PAGE_SIZE      4096u
#define PAGE_SHIFT     12
#define PAGE_MASK      (~(PAGE_SIZE - 1))
#define LARGE_2M       (2u << 20)
#define LARGE_4M       (4u << 20)

#define PAGE_ALIGN_DOWN(x) ((x) & ~(uint64_t)(PAGE_SIZE - 1))
#define PAGE_ALIGN_UP(x)   (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

/* Entry bits shared by 32-bit and PAE tables (low 12 bits). */
#define PTE_P    (1u << 0)    /* present */
#define PTE_W    (1u << 1)    /* writable */
#define PTE_U    (1u << 2)    /* user accessible */
#define PTE_PWT  (1u << 3)
#define PTE_PCD  (1u << 4)
#define PTE_A    (1u << 5)    /* accessed */
#define PTE_D    (1u << 6)    /* dirty (leaf only) */
#define PTE_PS   (1u << 7)    /* large page (directory entries) */
#define PTE_PAT  (1u << 7)    /* PAT bit (4 KiB leaf entries) */
#define PTE_G    (1u << 8)    /* global (leaf only) */
#define PTE_AVL0 (1u << 9)    /* free for software */
#define PTE_AVL1 (1u << 10)
#define PTE_AVL2 (1u << 11)
#define PTE_NX   (1ull << 63) /* no-execute (PAE only, needs EFER.NXE) */

/* Physical address field of a PAE entry (52-bit physical addresses). */
#define PAE_ADDR_MASK   0x000ffffffffff000ull
#define PAE_ADDR_2M     0x000fffffffe00000ull
/* 32-bit entries. */
#define PT32_ADDR_MASK  0xfffff000u
#define PT32_ADDR_4M    0xffc00000u

/* Index helpers for a linear address. */
#define PAE_PDPT_INDEX(va) (((uint32_t)(va) >> 30) & 3)
#define PAE_PD_INDEX(va)   (((uint32_t)(va) >> 21) & 511)
#define PAE_PT_INDEX(va)   (((uint32_t)(va) >> 12) & 511)
#define PT32_PD_INDEX(va)  (((uint32_t)(va) >> 22) & 1023)
#define PT32_PT_INDEX(va)  (((uint32_t)(va) >> 12) & 1023)

#define PAE_ENTRIES 512
#define PT32_ENTRIES 1024

typedef uint64_t pae_entry_t;
typedef uint32_t pt32_entry_t;

#endif

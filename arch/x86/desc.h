/* Segment and gate descriptors, selectors and the TSS: layouts and named helpers. */
#ifndef ARCH_X86_DESC_H
#define ARCH_X86_DESC_H
#include <stdint.h>

/* A selector: index, table indicator, requested privilege level. */
#define SEL_RPL(s)   ((s) & 3u)
#define SEL_TI       4u
#define SEL_INDEX(s) ((s) >> 3)
#define SEL(index, rpl) ((uint16_t)(((index) << 3) | (rpl)))

/* Access-byte fields (bits 40..47 of a descriptor). */
#define DESC_TYPE_MASK   0x0fu
#define DESC_S           0x10u   /* 1: code/data, 0: system */
#define DESC_DPL_SHIFT   5
#define DESC_DPL_MASK    0x60u
#define DESC_P           0x80u
/* Code/data types (with S=1). */
#define DESC_TYPE_ACCESSED 0x1u
#define DESC_TYPE_DATA_RW  0x2u
#define DESC_TYPE_DATA_DOWN 0x4u
#define DESC_TYPE_CODE     0x8u
#define DESC_TYPE_CODE_R   0xau
#define DESC_TYPE_CONFORMING 0x4u
/* System types (with S=0). */
#define DESC_TYPE_LDT      0x2u
#define DESC_TYPE_TSS32    0x9u
#define DESC_TYPE_TSS32_BUSY 0xbu
#define DESC_TYPE_CALLGATE32 0xcu
#define DESC_TYPE_TASKGATE 0x5u
#define DESC_TYPE_INTGATE32 0xeu
#define DESC_TYPE_TRAPGATE32 0xfu
/* Flags nibble (bits 52..55). */
#define DESC_FLAG_AVL 0x1u
#define DESC_FLAG_DB  0x4u   /* 32-bit segment */
#define DESC_FLAG_G   0x8u   /* limit in 4 KiB units */

struct seg_desc { uint32_t lo, hi; };

/* Build a code/data/system segment descriptor. access: P|DPL|S|type; flags: G|DB. */
static inline struct seg_desc desc_make(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    struct seg_desc d;
    if (limit > 0xfffff) { limit >>= 12; flags |= DESC_FLAG_G; }
    d.lo = (limit & 0xffff) | ((base & 0xffff) << 16);
    d.hi = ((base >> 16) & 0xff) | ((uint32_t)access << 8) | (limit & 0xf0000)
         | ((uint32_t)(flags & 0xf) << 20) | (base & 0xff000000);
    return d;
}
static inline uint32_t desc_base(struct seg_desc d) { return (d.lo >> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000); }
static inline uint32_t desc_limit(struct seg_desc d)
{
    uint32_t l = (d.lo & 0xffff) | (d.hi & 0xf0000);
    return (d.hi & (DESC_FLAG_G << 20)) ? (l << 12) | 0xfff : l;
}
static inline uint8_t desc_access(struct seg_desc d) { return (uint8_t)(d.hi >> 8); }
static inline unsigned desc_dpl(struct seg_desc d) { return (desc_access(d) & DESC_DPL_MASK) >> DESC_DPL_SHIFT; }
static inline int desc_present(struct seg_desc d) { return (desc_access(d) & DESC_P) != 0; }
static inline void desc_set_dpl(struct seg_desc *d, unsigned dpl)
{
    d->hi = (d->hi & ~((uint32_t)DESC_DPL_MASK << 8)) | ((uint32_t)(dpl & 3) << (DESC_DPL_SHIFT + 8));
}

/* An IDT gate: a handler selector and offset, type and DPL. */
struct gate_desc { uint32_t lo, hi; };
static inline struct gate_desc gate_make(uint16_t sel, uint32_t off, uint8_t type, unsigned dpl)
{
    struct gate_desc g;
    g.lo = (off & 0xffff) | ((uint32_t)sel << 16);
    g.hi = (off & 0xffff0000) | DESC_P << 8 | (uint32_t)(dpl & 3) << (DESC_DPL_SHIFT + 8) | (uint32_t)type << 8;
    return g;
}
static inline uint32_t gate_offset(struct gate_desc g) { return (g.lo & 0xffff) | (g.hi & 0xffff0000); }
static inline uint16_t gate_selector(struct gate_desc g) { return (uint16_t)(g.lo >> 16); }
static inline unsigned gate_type(struct gate_desc g) { return (g.hi >> 8) & 0x1f; }
static inline unsigned gate_dpl(struct gate_desc g) { return (g.hi >> 13) & 3; }
static inline int gate_present(struct gate_desc g) { return (g.hi >> 15) & 1; }

/* The operand of LGDT/LIDT/SGDT/SIDT. */
struct __attribute__((packed)) desc_ptr { uint16_t limit; uint32_t base; };

/* The 32-bit task-state segment. */
struct __attribute__((packed)) tss32 {
    uint16_t link, _r0;
    uint32_t esp0; uint16_t ss0, _r1;
    uint32_t esp1; uint16_t ss1, _r2;
    uint32_t esp2; uint16_t ss2, _r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, _r4, cs, _r5, ss, _r6, ds, _r7, fs, _r8, gs, _r9, ldt, _r10;
    uint16_t trap, iomap_base;
};

#endif

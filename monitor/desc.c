/* The guest's GDT, shadowed: guest DPL 0 descriptors become DPL 3 in the real table.
 *
 * The guest kernel runs at CPL3, so every code and data descriptor it can load must have
 * DPL 3 in the real GDT; the guest keeps its own indices, with the monitor's descriptors at
 * the top of the table. System descriptors (TSS, LDT, gates) are never loaded by the guest
 * directly, so their shadows are left not present and the monitor emulates LTR and friends.
 * The guest's user code descriptors are present only while the guest is in user mode, so
 * that an IRET or far return from the guest kernel to user mode faults (it would otherwise
 * succeed at CPL3 without the monitor seeing the mode change).
 * Known gap: a descriptor the guest edits in memory without reloading GDTR is picked up at
 * the next LGDT, LTR, IRET or SS load (desc_sync), not at once.
 */
#include "monitor/desc.h"
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/gmem.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

static uint32_t shadowed;                 /* entries 1..shadowed-1 hold guest shadows */
static uint8_t user_code[GUEST_GDT_MAX / 8];   /* which indices are guest user code */

void desc_init(void)
{
    mon_gdt[1] = desc_make(0, 0xffffffff, DESC_P | (3 << DESC_DPL_SHIFT) | DESC_S | DESC_TYPE_CODE_R, DESC_FLAG_DB);
    mon_gdt[2] = desc_make(0, 0xffffffff, DESC_P | (3 << DESC_DPL_SHIFT) | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    shadowed = 3;
    vcpu.gdt_base = 0;
    vcpu.gdt_limit = 0xffff;   /* undefined at entry; the boot descriptors stand until LGDT */
}

bool guest_desc(uint16_t sel, struct seg_desc *d)
{
    uint32_t fva;
    memset(d, 0, sizeof *d);
    if ((sel & SEL_TI) || SEL_INDEX(sel) == 0) return false;
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) {
        /* Before the guest's first LGDT: the boot descriptors. */
        if (SEL_INDEX(sel) >= 3) return false;
        *d = mon_gdt[SEL_INDEX(sel)];
        desc_set_dpl(d, 0);
        return true;
    }
    if ((uint32_t)(sel & ~7u) + 7 > vcpu.gdt_limit) return false;
    return glin_read(vcpu.gdt_base + (sel & ~7u), d, sizeof *d, 0, &fva) == 0;
}

/* The real descriptor for guest descriptor g at index i. */
static struct seg_desc shadow_of(struct seg_desc g, uint32_t i)
{
    if (!(desc_access(g) & DESC_S)) return (struct seg_desc){ 0, 0 };
    bool ucode = desc_is_code(g) && desc_dpl(g) == 3;
    if (ucode) user_code[i / 8] |= (uint8_t)(1u << (i % 8));
    else user_code[i / 8] &= (uint8_t)~(1u << (i % 8));
    desc_set_dpl(&g, 3);
    if (ucode && vcpu.cpl != 3) g.hi &= ~((uint32_t)DESC_P << 8);
    return g;
}

void desc_sync(void)
{
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) return;
    uint32_t n = (vcpu.gdt_limit + 1) / 8;
    if (n > GUEST_GDT_MAX) n = GUEST_GDT_MAX;
    for (uint32_t i = 1; i < n; i++) {
        struct seg_desc g;
        guest_desc((uint16_t)(i << 3), &g);
        mon_gdt[i] = shadow_of(g, i);
    }
    for (uint32_t i = n; i < shadowed; i++) mon_gdt[i] = (struct seg_desc){ 0, 0 };
    shadowed = n > 1 ? n : 1;
}

void desc_load_gdt(uint32_t base, uint32_t limit)
{
    vcpu.gdt_base = base;
    vcpu.gdt_limit = limit;
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) vcpu.gdt_limit = 0xfffe;  /* a real table */
    desc_sync();
}

void desc_mode_changed(void)
{
    for (uint32_t i = 1; i < shadowed; i++) {
        if (!(user_code[i / 8] & (1u << (i % 8)))) continue;
        if (vcpu.cpl == 3) mon_gdt[i].hi |= (uint32_t)DESC_P << 8;
        else mon_gdt[i].hi &= ~((uint32_t)DESC_P << 8);
    }
}

bool desc_is_hidden_user_code(uint16_t sel)
{
    uint32_t i = SEL_INDEX(sel);
    return !(sel & SEL_TI) && i && i < shadowed && (user_code[i / 8] & (1u << (i % 8))) && vcpu.cpl != 3;
}

struct seg_desc desc_shadow_of(uint16_t sel)
{
    if ((sel & SEL_TI) || SEL_INDEX(sel) == 0 || SEL_INDEX(sel) >= GDT_ENTRIES) return (struct seg_desc){ 0, 0 };
    return mon_gdt[SEL_INDEX(sel)];
}

uint32_t seg_base(uint16_t sel)
{
    return desc_base(desc_shadow_of(sel));
}

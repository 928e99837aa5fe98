/* The guest's GDT, shadowed: in the guest's kernel mode its DPL 0 descriptors become DPL 3 in
 * the real table; in its user mode they keep the guest's DPL.
 *
 * The guest kernel runs at CPL3, so every code and data descriptor it can load must have
 * DPL 3 in the real GDT; the guest keeps its own indices, with the monitor's descriptors at
 * the top of the table. System descriptors (TSS, LDT, gates) are never loaded by the guest
 * directly, so their shadows are left not present and the monitor emulates LTR and friends.
 * The guest's user code descriptors are present only while the guest is in user mode, so
 * that an IRET or far return from the guest kernel to user mode faults (it would otherwise
 * succeed at CPL3 without the monitor seeing the mode change). While the guest's NMIs are
 * blocked in user mode they are hidden there too (desc_hide_user_code), so that its IRET
 * faults and ends the blocking (monitor/nmi.c); the registers that name them then run on
 * present copies in their stale slots (desc_keep_loadable).
 * Every return to the guest reloads its segment registers from the real GDT, where the CPU
 * would keep the descriptors it cached when they were loaded. So when a shadow entry that a
 * live register names is about to change, the old descriptor moves to that register's stale
 * slot and the register is pointed there; the guest's next load of the register picks up the
 * new entry, exactly as on hardware. (MOV from the register shows the stale slot's selector.)
 * Known gap: a descriptor the guest edits in memory without reloading GDTR is picked up at
 * the next LGDT, IRET, far RET, far CALL or JMP, or SS load (desc_sync), not at once.
 * In kernel mode every code and data shadow has DPL 3 (the guest kernel runs at CPL3); in user
 * mode each has the guest's own DPL, so that what ring 3 may not load (kernel data, kernel code
 * for a far JMP or CALL, LAR/LSL/VERR/VERW of them) it cannot load at the real CPL3 either. A
 * data segment register that still holds a kernel descriptor as the guest enters user mode
 * (SYSEXIT leaves DS alone) keeps it through its stale slot, as the CPU keeps its cache.
 * The accessed bit: the CPU sets it in the real entry when it loads a segment, where the guest
 * cannot see it. Each sync copies it into the guest's own descriptor when that descriptor is
 * still the one the real entry was built from (and before LGDT or LLDT leave a table), so the
 * guest's table shows what the CPU did, at the next sync rather than at once.
 * With scan-before-execute, every code descriptor but the guest's user code has its base
 * moved by `code_bias` in the real tables, so that the guest kernel's instruction fetches land
 * in the code window (monitor/code.c); seg_base takes the bias off again.
 */
#include "monitor/desc.h"
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/gmem.h"
#include "monitor/reflect.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

static uint32_t shadowed;                 /* entries 1..shadowed-1 hold guest shadows */
static struct seg_desc mon_ldt[MON_LDT_ENTRIES] __attribute__((aligned(8)));
static uint32_t ldt_shadowed;             /* LDT entries 0..ldt_shadowed-1 hold shadows */
static uint8_t user_code_ldt[MON_LDT_ENTRIES / 8];
/* Stale slots: the descriptor a segment register still caches after the guest changed its
 * GDT entry, the guest's own selector for it, and that entry as the guest wrote it. */
static uint16_t stale_sel[6];
static struct seg_desc stale_guest[6];
static uint8_t user_code[GUEST_GDT_MAX / 8];   /* which indices are guest user code */
static uint8_t gdt_dpl[GUEST_GDT_MAX];         /* the guest's DPL of each code/data shadow */
static uint8_t ldt_dpl[MON_LDT_ENTRIES];
static uint32_t code_bias;                /* added to the base of every biased code descriptor */
static bool hidden_in_user;               /* user code is not present in user mode either */

/* Add delta to the base of d. */
static void add_base(struct seg_desc *d, uint32_t delta)
{
    uint32_t b = desc_base(*d) + delta;
    d->lo = (d->lo & 0xffffu) | (b << 16);
    d->hi = (d->hi & 0x00ffff00u) | ((b >> 16) & 0xffu) | (b & 0xff000000u);
}

void desc_init(void)
{
    mon_gdt[1] = desc_make(code_bias, 0xffffffff, DESC_P | (3 << DESC_DPL_SHIFT) | DESC_S | DESC_TYPE_CODE_R, DESC_FLAG_DB);
    mon_gdt[2] = desc_make(0, 0xffffffff, DESC_P | (3 << DESC_DPL_SHIFT) | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    shadowed = 3;
    vcpu.gdt_base = 0;
    vcpu.gdt_limit = 0xffff;   /* undefined at entry; the boot descriptors stand until LGDT */
}

bool guest_desc(uint16_t sel, struct seg_desc *d)
{
    if (!(sel & SEL_TI) && SEL_INDEX(sel) >= MON_STALE_FIRST && SEL_INDEX(sel) < MON_STALE_FIRST + 6) {
        *d = stale_guest[SEL_INDEX(sel) - MON_STALE_FIRST];
        return true;
    }
    return guest_desc_own(sel, d);
}

bool guest_desc_own(uint16_t sel, struct seg_desc *d)
{
    uint32_t fva;
    memset(d, 0, sizeof *d);
    if (sel & SEL_TI) {
        if (!(vcpu.ldtr & ~3u) || (uint32_t)(sel & ~7u) + 7 > vcpu.ldt_limit) return false;
        return glin_read(vcpu.ldt_base + (sel & ~7u), d, sizeof *d, 0, &fva) == 0;
    }
    if (SEL_INDEX(sel) == 0) return false;
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) {
        /* Before the guest's first LGDT: the boot descriptors. */
        if (SEL_INDEX(sel) >= 3) return false;
        *d = mon_gdt[SEL_INDEX(sel)];
        desc_set_dpl(d, 0);
        if (desc_is_code(*d)) add_base(d, 0u - code_bias);
        return true;
    }
    if ((uint32_t)(sel & ~7u) + 7 > vcpu.gdt_limit) return false;
    return glin_read(vcpu.gdt_base + (sel & ~7u), d, sizeof *d, 0, &fva) == 0;
}

/* Conforming code runs at its caller's CPL: from user mode it is user code, run unscanned
 * (its base is the guest's), from kernel mode kernel code (biased, run from the code window). */
static bool is_conforming(struct seg_desc d) { return desc_is_code(d) && (desc_access(d) & DESC_TYPE_CONFORMING); }

/* The real DPL of a code or data shadow whose guest DPL is dpl, in the guest's present mode. */
static unsigned real_dpl(unsigned dpl) { return vcpu.cpl == 3 ? dpl : 3; }

/* The real descriptor for guest descriptor g at index i of the table whose user-code bitmap is
 * uc and DPL record dpls. */
static struct seg_desc shadow_in(struct seg_desc g, uint32_t i, uint8_t *uc, uint8_t *dpls)
{
    if (!(desc_access(g) & DESC_S)) return (struct seg_desc){ 0, 0 };
    /* User code: non-conforming code of DPL 3 (conforming code keeps the caller's CPL). */
    bool ucode = desc_is_code(g) && desc_dpl(g) == 3 && !(desc_access(g) & DESC_TYPE_CONFORMING);
    if (ucode) uc[i / 8] |= (uint8_t)(1u << (i % 8));
    else uc[i / 8] &= (uint8_t)~(1u << (i % 8));
    dpls[i] = (uint8_t)desc_dpl(g);
    desc_set_dpl(&g, real_dpl(dpls[i]));
    if (ucode && (vcpu.cpl != 3 || hidden_in_user)) g.hi &= ~((uint32_t)DESC_P << 8);
    if (desc_is_code(g) && !ucode && !(is_conforming(g) && vcpu.cpl == 3)) add_base(&g, code_bias);
    return g;
}

static struct seg_desc shadow_of(struct seg_desc g, uint32_t i) { return shadow_in(g, i, user_code, gdt_dpl); }

#define ACCESSED ((uint32_t)DESC_TYPE_ACCESSED << 8)

/* If the CPU set the accessed bit in real entry r, built at index i from the guest's
 * descriptor *g (at guest-linear la), set it in the guest's table and in *g too, as the CPU
 * would have. Not when *g has changed since r was built: that one was never loaded. */
static void accessed_to_guest(struct seg_desc r, struct seg_desc *g, uint32_t i, uint8_t *uc,
                              uint8_t *dpls, uint32_t la)
{
    if (!(r.hi & ACCESSED) || (g->hi & ACCESSED) || !(desc_access(*g) & DESC_S)) return;
    struct seg_desc a = { g->lo, g->hi | ACCESSED };
    struct seg_desc s = shadow_in(a, i, uc, dpls);
    if (s.lo != r.lo || s.hi != r.hi) return;
    uint8_t type = (uint8_t)(a.hi >> 8);
    uint32_t fva;
    if (glin_write(la + 5, &type, 1, 0, &fva) == 0) *g = a;
}

/* The same for every entry of a table about to be left (LGDT, LLDT). */
static void accessed_to_old_table(const struct seg_desc *t, uint32_t first, uint32_t n, uint32_t ti,
                                  uint8_t *uc, uint8_t *dpls, uint32_t base)
{
    for (uint32_t i = first; i < n; i++) {
        struct seg_desc g;
        if (!(t[i].hi & ACCESSED) || !guest_desc_own((uint16_t)(i << 3 | ti), &g)) continue;
        accessed_to_guest(t[i], &g, i, uc, dpls, base + i * 8);
    }
}

/* Copy the guest's LDT into the shadow LDT; same: it is the table the shadow came from. */
static void ldt_sync(bool same)
{
    uint32_t n = (vcpu.ldtr & ~3u) ? (vcpu.ldt_limit + 1) / 8 : 0;
    if (n > MON_LDT_ENTRIES) n = MON_LDT_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        struct seg_desc g;
        guest_desc((uint16_t)(i << 3 | SEL_TI), &g);
        if (same && i < ldt_shadowed)
            accessed_to_guest(mon_ldt[i], &g, i, user_code_ldt, ldt_dpl, vcpu.ldt_base + i * 8);
        mon_ldt[i] = shadow_in(g, i, user_code_ldt, ldt_dpl);
    }
    for (uint32_t i = n; i < ldt_shadowed; i++) mon_ldt[i] = (struct seg_desc){ 0, 0 };
    ldt_shadowed = n;
}

void desc_ldt_install(uint32_t base)
{
    uint32_t limit = ldt_shadowed ? ldt_shadowed * 8 - 1 : 0;
    mon_gdt[SEL_INDEX(MON_SEL_LDT)] = desc_make(base + (uint32_t)mon_ldt, limit, DESC_P | DESC_TYPE_LDT, 0);
    uint16_t sel = (vcpu.ldtr & ~3u) ? MON_SEL_LDT : 0;
    __asm__ volatile("lldt %w0" :: "r"(sel));
}

bool desc_load_ldt(struct guest_frame *f, uint16_t sel)
{
    struct seg_desc d;
    if (vcpu.ldtr & ~3u)
        accessed_to_old_table(mon_ldt, 0, ldt_shadowed, SEL_TI, user_code_ldt, ldt_dpl, vcpu.ldt_base);
    if (!(sel & ~3u)) {
        vcpu.ldtr = sel;       /* a null selector, kept as loaded (SLDT gives it back, RPL too) */
        ldt_sync(false);
        desc_ldt_install(shared->region);
        return true;
    }
    if ((sel & SEL_TI) || !guest_desc_own(sel, &d) || (desc_access(d) & DESC_S) ||
        (desc_access(d) & DESC_TYPE_MASK) != DESC_TYPE_LDT) {
        deliver_exception(f, EXC_GP, sel & ~3u);
        return false;
    }
    if (!desc_present(d)) { deliver_exception(f, EXC_NP, sel & ~3u); return false; }
    vcpu.ldtr = sel;
    vcpu.ldt_base = desc_base(d);
    vcpu.ldt_limit = desc_limit(d);
    ldt_sync(false);
    desc_ldt_install(shared->region);
    return true;
}

/* The frame's segment registers in encoding order (ES CS SS DS FS GS). */
static uint32_t *seg_reg(struct guest_frame *f, unsigned r)
{
    uint32_t *const regs[6] = { &f->es, &f->cs, &f->ss, &f->ds, &f->fs, &f->gs };
    return regs[r];
}

/* Entry i is about to become nd: registers that cache its old contents keep them. */
static void keep_cached(struct guest_frame *f, uint32_t i, struct seg_desc nd)
{
    struct seg_desc old = mon_gdt[i];
    /* The CPU sets the accessed bit in the real table: that is no change of the segment. */
    uint32_t acc = (uint32_t)DESC_TYPE_ACCESSED << 8;
    if (old.lo == nd.lo && (old.hi | acc) == (nd.hi | acc)) return;
    for (unsigned r = 0; r < 6; r++) {
        uint32_t *sel = seg_reg(f, r);
        if ((*sel & SEL_TI) || SEL_INDEX(*sel) != i) continue;
        uint32_t slot = MON_STALE_FIRST + r;
        stale_sel[r] = (uint16_t)*sel;
        guest_desc((uint16_t)*sel, &stale_guest[r]);
        mon_gdt[slot] = old;
        *sel = (slot << 3) | SEL_RPL(*sel);
    }
}

/* desc_sync; same: the guest's GDT is the one the shadows were built from. */
static void gdt_sync(struct guest_frame *f, bool same)
{
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) return;
    uint32_t n = (vcpu.gdt_limit + 1) / 8;
    if (n > GUEST_GDT_MAX) n = GUEST_GDT_MAX;
    for (uint32_t i = 1; i < n; i++) {
        struct seg_desc g;
        guest_desc((uint16_t)(i << 3), &g);
        if (same && i < shadowed)
            accessed_to_guest(mon_gdt[i], &g, i, user_code, gdt_dpl, vcpu.gdt_base + i * 8);
        struct seg_desc nd = shadow_of(g, i);
        keep_cached(f, i, nd);
        mon_gdt[i] = nd;
    }
    for (uint32_t i = n; i < shadowed; i++) {
        keep_cached(f, i, (struct seg_desc){ 0, 0 });
        mon_gdt[i] = (struct seg_desc){ 0, 0 };
    }
    shadowed = n > 1 ? n : 1;
    if (vcpu.ldtr & ~3u) ldt_sync(same);
}

void desc_sync(struct guest_frame *f) { gdt_sync(f, true); }

void desc_load_gdt(struct guest_frame *f, uint32_t base, uint32_t limit)
{
    struct seg_desc boot[3] = { mon_gdt[0], mon_gdt[1], mon_gdt[2] };
    bool first = vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff;
    if (!first) {
        accessed_to_old_table(mon_gdt, 1, shadowed, 0, user_code, gdt_dpl, vcpu.gdt_base);
        if (vcpu.ldtr & ~3u)
            accessed_to_old_table(mon_ldt, 0, ldt_shadowed, SEL_TI, user_code_ldt, ldt_dpl, vcpu.ldt_base);
    }
    vcpu.gdt_base = base;
    vcpu.gdt_limit = limit;
    if (vcpu.gdt_base == 0 && vcpu.gdt_limit == 0xffff) vcpu.gdt_limit = 0xfffe;  /* a real table */
    if (first) {
        /* The registers still cache the boot descriptors: keep those until reloaded. */
        for (unsigned r = 0; r < 6; r++) {
            uint32_t *sel = seg_reg(f, r);
            uint32_t i = SEL_INDEX(*sel);
            if ((*sel & SEL_TI) || i < 1 || i > 2) continue;
            mon_gdt[MON_STALE_FIRST + r] = boot[i];
            stale_guest[r] = boot[i];
            desc_set_dpl(&stale_guest[r], 0);      /* the guest's view: its kernel segments */
            if (desc_is_code(boot[i])) add_base(&stale_guest[r], 0u - code_bias);
            stale_sel[r] = (uint16_t)*sel;
            *sel = ((MON_STALE_FIRST + r) << 3) | SEL_RPL(*sel);
        }
    }
    gdt_sync(f, false);
}

void desc_fixed_flat(struct guest_frame *f, unsigned r, uint16_t sel, unsigned dpl)
{
    bool code = r == 1;                         /* CS, in encoding order */
    uint8_t type = code ? DESC_TYPE_CODE_R : DESC_TYPE_DATA_RW;
    struct seg_desc want = desc_make(0, 0xffffffff, (uint8_t)(DESC_P | (dpl << DESC_DPL_SHIFT) | DESC_S | type |
                                     DESC_TYPE_ACCESSED), DESC_FLAG_DB), g;
    uint32_t acc = (uint32_t)DESC_TYPE_ACCESSED << 8;
    if (guest_desc_own(sel, &g) && g.lo == want.lo && (g.hi | acc) == want.hi) return;
    uint32_t slot = MON_STALE_FIRST + r;
    struct seg_desc real = want;
    desc_set_dpl(&real, 3);
    if (code && dpl != 3) add_base(&real, code_bias);
    stale_sel[r] = sel;
    stale_guest[r] = want;
    mon_gdt[slot] = real;
    *seg_reg(f, r) = (slot << 3) | 3;
}

void desc_unloaded(struct guest_frame *f, unsigned r, uint16_t sel)
{
    bool cs_ss = r == 1 || r == 2;
    if (!cs_ss && !(sel & ~3u)) { *seg_reg(f, r) = sel; return; }
    uint32_t slot = MON_STALE_FIRST + r;
    stale_sel[r] = sel;
    stale_guest[r] = (struct seg_desc){ 0, 0 };
    mon_gdt[slot] = desc_make(0, 0xffffffff, DESC_P | (3 << DESC_DPL_SHIFT) | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    *seg_reg(f, r) = (slot << 3) | (cs_ss ? 3 : SEL_RPL(sel));
}

uint32_t desc_guest_sel(uint32_t real)
{
    uint32_t i = SEL_INDEX(real);
    if (!(real & SEL_TI) && i >= MON_STALE_FIRST && i < MON_STALE_FIRST + 6)
        return (stale_sel[i - MON_STALE_FIRST] & ~3u) | SEL_RPL(real);
    return real;
}

/* Present user code descriptors in user mode only (and not while hidden_in_user), in one table. */
static void hide_user_code(struct seg_desc *t, uint32_t first, uint32_t n, const uint8_t *uc)
{
    for (uint32_t i = first; i < n; i++) {
        if (!(uc[i / 8] & (1u << (i % 8)))) continue;
        if (vcpu.cpl == 3 && !hidden_in_user) t[i].hi |= (uint32_t)DESC_P << 8;
        else t[i].hi &= ~((uint32_t)DESC_P << 8);
    }
}

/* Give the code and data shadows of one table the real DPL of the guest's present mode, and
 * its conforming code the base of that mode. */
static void set_mode_dpl(struct seg_desc *t, uint32_t first, uint32_t n, const uint8_t *dpls)
{
    for (uint32_t i = first; i < n; i++) {
        if (!(desc_access(t[i]) & DESC_S)) continue;
        desc_set_dpl(&t[i], real_dpl(dpls[i]));
        if (is_conforming(t[i])) add_base(&t[i], vcpu.cpl == 3 ? 0u - code_bias : code_bias);
    }
}

/* Does a segment register of f name stale slot r? */
static bool stale_in_use(const struct guest_frame *f, unsigned r)
{
    for (unsigned k = 0; k < 6; k++) {
        uint32_t sel = *seg_reg((struct guest_frame *)f, k);
        if (!(sel & SEL_TI) && SEL_INDEX(sel) == MON_STALE_FIRST + r) return true;
    }
    return false;
}

void desc_mode_changed(void)
{
    struct guest_frame *f = GUEST_FRAME;
    if (vcpu.cpl == 3) {
        /* Data registers that still hold a descriptor of an inner level keep it, cached. */
        const unsigned data_regs[4] = { 0, 3, 4, 5 };          /* ES DS FS GS */
        for (unsigned k = 0; k < 4; k++) {
            unsigned r = data_regs[k];
            uint32_t *sel = seg_reg(f, r), i = SEL_INDEX(*sel);
            bool inner = (*sel & SEL_TI) ? i < ldt_shadowed && ldt_dpl[i] < 3
                                         : i && i < shadowed && gdt_dpl[i] < 3;
            if (!inner) continue;
            uint32_t slot = MON_STALE_FIRST + r;
            stale_sel[r] = (uint16_t)*sel;
            guest_desc((uint16_t)*sel, &stale_guest[r]);
            mon_gdt[slot] = desc_shadow_of((uint16_t)*sel);
            *sel = (slot << 3) | SEL_RPL(*sel);
        }
    }
    set_mode_dpl(mon_gdt, 1, shadowed, gdt_dpl);
    set_mode_dpl(mon_ldt, 0, ldt_shadowed, ldt_dpl);
    /* A stale slot no register uses any more is, in user mode, as loadable as its descriptor. */
    for (unsigned r = 0; r < 6; r++) {
        struct seg_desc *d = &mon_gdt[MON_STALE_FIRST + r];
        if (!(desc_access(*d) & DESC_S)) continue;
        desc_set_dpl(d, stale_in_use(f, r) ? 3 : real_dpl(desc_dpl(stale_guest[r])));
        if (is_conforming(*d)) add_base(d, vcpu.cpl == 3 ? 0u - code_bias : code_bias);
    }
    hide_user_code(mon_gdt, 1, shadowed, user_code);
    hide_user_code(mon_ldt, 0, ldt_shadowed, user_code_ldt);
}

bool desc_is_hidden_user_code(uint16_t sel)
{
    uint32_t i = SEL_INDEX(sel);
    if (vcpu.cpl == 3 && !hidden_in_user) return false;
    if (sel & SEL_TI) return i < ldt_shadowed && (user_code_ldt[i / 8] & (1u << (i % 8)));
    return i && i < shadowed && (user_code[i / 8] & (1u << (i % 8)));
}

void desc_hide_user_code(bool hide)
{
    if (hide == hidden_in_user) return;
    hidden_in_user = hide;
    hide_user_code(mon_gdt, 1, shadowed, user_code);
    hide_user_code(mon_ldt, 0, ldt_shadowed, user_code_ldt);
}

void desc_keep_loadable(struct guest_frame *f)
{
    for (unsigned r = 0; r < 6; r++) {
        uint32_t *sel = seg_reg(f, r);
        if (r == 2 || !desc_is_hidden_user_code((uint16_t)*sel)) continue;   /* SS never holds code */
        struct seg_desc d = desc_shadow_of((uint16_t)*sel);
        uint32_t slot = MON_STALE_FIRST + r;
        d.hi |= (uint32_t)DESC_P << 8;
        stale_sel[r] = (uint16_t)*sel;
        guest_desc((uint16_t)*sel, &stale_guest[r]);
        mon_gdt[slot] = d;
        *sel = (slot << 3) | SEL_RPL(*sel);
    }
}

struct seg_desc desc_shadow_of(uint16_t sel)
{
    if (sel & SEL_TI) return SEL_INDEX(sel) < ldt_shadowed ? mon_ldt[SEL_INDEX(sel)] : (struct seg_desc){ 0, 0 };
    if (SEL_INDEX(sel) == 0 || SEL_INDEX(sel) >= GDT_ENTRIES) return (struct seg_desc){ 0, 0 };
    return mon_gdt[SEL_INDEX(sel)];
}

/* Is the real selector sel one of the guest's user code segments, or conforming code while
 * the guest is in user mode (never biased)? */
static bool is_user_code(uint16_t sel)
{
    uint32_t i = SEL_INDEX(sel);
    if (vcpu.cpl == 3 && is_conforming(desc_shadow_of(sel))) return true;
    if (sel & SEL_TI) return i < ldt_shadowed && (user_code_ldt[i / 8] & (1u << (i % 8)));
    if (i >= MON_STALE_FIRST && i < MON_STALE_FIRST + 6) {
        struct seg_desc g = stale_guest[i - MON_STALE_FIRST];
        return desc_is_code(g) && desc_dpl(g) == 3 && !(desc_access(g) & DESC_TYPE_CONFORMING);
    }
    return i < shadowed && (user_code[i / 8] & (1u << (i % 8)));
}

uint32_t desc_guest_code_sel(uint32_t real)
{
    if (!(real & ~3u)) return real;
    return (desc_guest_sel(real) & ~3u) | (is_user_code((uint16_t)real) ? 3 : 0);
}

uint32_t seg_base(uint16_t sel)
{
    struct seg_desc d = desc_shadow_of(sel);
    uint32_t base = desc_base(d);
    if (desc_is_code(d) && !is_user_code(sel)) base -= code_bias;
    return base;
}

void desc_set_code_bias(uint32_t bias)
{
    uint32_t delta = bias - code_bias;
    code_bias = bias;
    for (uint32_t i = 1; i < shadowed; i++)
        if (desc_is_code(mon_gdt[i]) && !is_user_code((uint16_t)(i << 3))) add_base(&mon_gdt[i], delta);
    for (uint32_t i = 0; i < ldt_shadowed; i++)
        if (desc_is_code(mon_ldt[i]) && !is_user_code((uint16_t)(i << 3 | SEL_TI))) add_base(&mon_ldt[i], delta);
    for (uint32_t r = 0; r < 6; r++) {
        uint16_t sel = (uint16_t)((MON_STALE_FIRST + r) << 3);
        if (desc_is_code(mon_gdt[MON_STALE_FIRST + r]) && !is_user_code(sel)) add_base(&mon_gdt[MON_STALE_FIRST + r], delta);
    }
}

/* Hardware task switching for the guest, as SDM Vol. 3 7.3 (Task Switching) and 7.4 (Task
 * Linking) tell it, for 32-bit TSSs.
 *
 * The guest's task register, its TSSs, busy bits and back links are all its own: the real TR
 * always names the monitor's TSS and the guest's system descriptors are not present in the
 * real GDT, so every switch the guest asks for reaches the monitor (a JMP or CALL far to a TSS
 * or task gate faults on the empty shadow, or traps where scanning patched it; an event finds a
 * task gate in the guest's IDT; IRET with NT in the guest kernel is patched, and in its user
 * mode the real CPU tries a task return through the monitor's TSS, whose back link is null,
 * and raises #TS). The monitor performs it on the virtual CPU:
 *  - checks with no side effects, each fault in the old task (taskcheck.c has the rules);
 *  - both TSSs reachable; the old task not busy (JMP, IRET); its state saved: general
 *    registers, the selectors the guest believes it has, EFLAGS (NT clear for IRET), EIP;
 *  - the back link and NT (CALL, events); the new task busy (JMP, CALL, events);
 *  - the commit: TR, CR0.TS, the local breakpoint enables, CR3 (with paging on, through the
 *    paging code's CR3 path), EIP, EFLAGS, general registers, every segment register's new
 *    selector, the CPL of the new CS; then the LDT and the segment descriptors are checked
 *    and loaded one at a time, and a fault there is the new task's: its registers not loaded
 *    yet keep their selectors over a flat descriptor (desc_unloaded), as QEMU's do;
 *  - for an exception, its error code on the new task's stack; the new EIP against CS's limit;
 *    the T flag's #DB.
 */
#include "monitor/task.h"
#include "monitor/taskcheck.h"
#include "monitor/mon.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "monitor/reflect.h"
#include "monitor/emu/decode.h"
#include "paging/paging.h"
#include "arch/x86/regs.h"
#include "lib/string.h"

#define DR7_LOCAL_ENABLES 0x55u   /* L0-L3: cleared by every task switch (SDM 17.2.4) */
#define DR6_BT (1u << 15)         /* DR6: the debug trap of a task switch to a T-flagged TSS */

static bool t_flag;               /* the task just switched to has its TSS's T flag set */
/* The registers a switch that failed left unloaded: their real selectors (0: none) and the
 * selectors the new TSS gave them, which the guest's CPU saves as they are (CS and SS with
 * their own RPL, which the CPL need not match: it failed). */
static uint32_t unloaded_real[6];
static uint16_t unloaded_sel[6];

static uint32_t *seg_field(struct guest_frame *f, unsigned r)
{
    uint32_t *const regs[6] = { &f->es, &f->cs, &f->ss, &f->ds, &f->fs, &f->gs };
    return regs[r];
}

/* The guest's GDT descriptor of sel, which must name the GDT (a TSS, an LDT). */
static bool gdt_desc(uint16_t sel, struct seg_desc *d)
{
    if (sel & SEL_TI) { *d = (struct seg_desc){ 0, 0 }; return false; }
    return guest_desc_own(sel, d);
}

static bool lookup(void *ctx, uint16_t sel, struct seg_desc *d)
{
    (void)ctx;
    return guest_desc_own(sel, d);
}

static void fault(struct guest_frame *f, struct task_fault t) { deliver_exception(f, (unsigned)t.vector, t.error); }

/* Change the type byte of the descriptor at byte offset off of the table at base: set `set`,
 * clear `clear` (the busy bit of a TSS, the accessed bit of a segment). The CPU's own writes:
 * a fault here is not the guest's (its checks read the same descriptor). */
static void desc_type_bits(uint32_t base, uint32_t off, uint8_t set, uint8_t clear)
{
    uint8_t type, was;
    uint32_t fva;
    if (glin_read(base + off + 5, &type, 1, 0, &fva)) return;
    was = type;
    type = (uint8_t)((type | set) & ~clear);
    if (type != was) glin_write(base + off + 5, &type, 1, 0, &fva);
}

static void set_busy(uint16_t sel, bool busy)
{
    desc_type_bits(vcpu.gdt_base, sel & ~7u, busy ? 2 : 0, busy ? 0 : 2);
}

/* Load the new task's segment register r (encoding order) with sel, checked: the real frame
 * gets it, the guest's descriptor its accessed bit, as the CPU sets it when it loads one. */
static void load_seg(struct guest_frame *f, unsigned r, uint16_t sel)
{
    *seg_field(f, r) = (r == SEG_CS || r == SEG_SS) ? (sel & ~3u) | 3 : sel;
    unloaded_real[r] = 0;
    if (sel & ~3u) desc_type_bits((sel & SEL_TI) ? vcpu.ldt_base : vcpu.gdt_base, sel & ~7u, DESC_TYPE_ACCESSED, 0);
}

/* The state the guest's CPU would save: its general registers and selectors as it sees them. */
static void current_state(const struct guest_frame *f, struct task_state *st)
{
    const uint32_t gpr[8] = { f->eax, f->ecx, f->edx, f->ebx, f->esp, f->ebp, f->esi, f->edi };
    for (unsigned i = 0; i < 8; i++) st->gpr[i] = gpr[i];
    st->sel[SEG_ES] = (uint16_t)desc_guest_sel(f->es);
    st->sel[SEG_CS] = (uint16_t)((desc_guest_sel(f->cs) & ~3u) | vcpu.cpl);
    st->sel[SEG_SS] = (uint16_t)((desc_guest_sel(f->ss) & ~3u) | vcpu.cpl);
    st->sel[SEG_DS] = (uint16_t)desc_guest_sel(f->ds);
    st->sel[SEG_FS] = (uint16_t)desc_guest_sel(f->fs);
    st->sel[SEG_GS] = (uint16_t)desc_guest_sel(f->gs);
    for (unsigned r = 0; r < 6; r++) {
        uint32_t real = *seg_field((struct guest_frame *)f, r);
        if (unloaded_real[r] && real == unloaded_real[r] &&
            (desc_guest_sel(real) & ~3u) == (unloaded_sel[r] & ~3u))
            st->sel[r] = unloaded_sel[r];
    }
}

/* The switch to the TSS sel, whose descriptor d passed task_check_tss for cause c; next_eip
 * is the old task's EIP to save. For an event, err is pushed on the new task's stack if
 * push_err, and ext is the EXT bit of faults after the commit. true when the new task is
 * ready to run; false after delivering a fault (in the old task before the commit, in the new
 * one after it). */
static bool do_switch(struct guest_frame *f, enum task_cause c, uint16_t sel, struct seg_desc d, uint32_t next_eip,
                      bool push_err, uint32_t err, uint32_t ext)
{
    uint8_t nt[TSS_MIN_LIMIT + 1], old[TSS_DYNAMIC_LEN];
    uint32_t base = desc_base(d), fva, e;
    if ((vcpu.tr & ~3u) && !vcpu.tr_tss32)
        guest_stop(STOP_UNSUPPORTED, "a task switch from the 16-bit TSS %04x; only 32-bit TSSs are supported", vcpu.tr);
    shared->count.emulated[EMU_TASK]++;
    /* Both TSSs are reached before anything changes (step 5): the new one read whole, the
     * fields of the old one that are saved checked writable. Implicit supervisor accesses. */
    if ((e = glin_read(base, nt, sizeof nt, 0, &fva)) ||
        (e = glin_read(vcpu.tr_base + TSS_EIP, old, sizeof old, ACC_WRITE, &fva))) {
        deliver_pf(f, fva, e);
        return false;
    }
    struct task_state st, ns;
    current_state(f, &st);
    st.eip = next_eip;
    st.eflags = task_old_eflags(guest_eflags(f), c);
    /* RF in the real frame is the trap's (a CPU sets it in a fault's image); a JMP, CALL or
     * IRET the monitor completes leaves the guest's clear. */
    if (c != TASK_EVENT) st.eflags &= ~EFL_RF;
    if (task_clears_old_busy(c) && (vcpu.tr & ~3u)) set_busy(vcpu.tr, false);
    task_save_image(old, &st);
    glin_write(vcpu.tr_base + TSS_EIP, old, sizeof old, 0, &fva);
    if (task_links(c)) {
        uint16_t link = vcpu.tr;
        glin_write(base + TSS_LINK, &link, 2, 0, &fva);
    }
    if (task_sets_new_busy(c)) set_busy(sel, true);

    /* The commit: from here on the new task is the one running, and its faults are its own. */
    vcpu.tr = sel;
    vcpu.tr_base = base;
    vcpu.tr_limit = desc_limit(d);
    vcpu.tr_tss32 = true;
    vcpu.cr0 |= CR0_TS;
    fpu_sync_cr0();
    vcpu.dr[7] &= ~DR7_LOCAL_ENABLES;
    t_flag = nt[TSS_TRAP] & 1;
    task_load_image(nt, &ns);
    if (vcpu.cr0 & CR0_PG) {
        /* With paging off the CR3 field is read but not loaded. */
        memcpy(&vcpu.cr3, nt + TSS_CR3, 4);
        pt_cr3_written();
    }
    uint32_t fl = task_new_eflags(ns.eflags, c);
    if (fl & EFL_VM) guest_stop(STOP_UNSUPPORTED, "the task of TSS %04x runs in virtual-8086 mode; not supported", sel);
    f->eip = ns.eip;
    f->eax = ns.gpr[0]; f->ecx = ns.gpr[1]; f->edx = ns.gpr[2]; f->ebx = ns.gpr[3];
    f->esp = ns.gpr[4]; f->ebp = ns.gpr[5]; f->esi = ns.gpr[6]; f->edi = ns.gpr[7];
    set_guest_eflags(f, fl, EFL_ARITH | EFL_TF | EFL_IF | EFL_DF | EFL_IOPL | EFL_NT | EFL_RF | EFL_AC | EFL_ID);
    vcpu.irq_shadow = false;
    /* Every segment register takes its new selector before any descriptor is checked (steps
     * 12 and 13); the CPL is the new CS's RPL. */
    for (unsigned r = 0; r < 6; r++) {
        desc_unloaded(f, r, ns.sel[r]);
        unloaded_real[r] = *seg_field(f, r);
        unloaded_sel[r] = ns.sel[r];
    }
    unsigned cpl = ns.sel[SEG_CS] & 3u;
    if (cpl == 1 || cpl == 2)
        guest_stop(STOP_UNSUPPORTED, "the task of TSS %04x runs at privilege level %u; only 0 and 3 are supported", sel, cpl);
    set_cpl(cpl);
    desc_sync(f);              /* the shadows as the new address space shows the GDT */

    /* The LDT: a selector that fails leaves LDTR holding it with no table behind it. */
    uint16_t ldt;
    struct seg_desc dl;
    memcpy(&ldt, nt + TSS_LDT, 2);
    struct task_fault t = task_check_ldt(ldt, gdt_desc(ldt, &dl), dl);
    if (t.vector != TASK_OK) {
        desc_load_ldt(f, 0);
        vcpu.ldtr = ldt & (uint16_t)~SEL_TI;
        vcpu.ldt_base = vcpu.ldt_limit = 0;
        t.error |= ext;
        fault(f, t);
        return false;
    }
    desc_load_ldt(f, ldt);

    /* The segments, in the order their checks come; those loaded before a fault stay. */
    unsigned loaded;
    t = task_check_segs(ns.sel, lookup, 0, &loaded);
    for (unsigned k = 0; k < loaded; k++) load_seg(f, task_load_order[k], ns.sel[task_load_order[k]]);
    if (t.vector != TASK_OK) {
        t.error |= ext;
        fault(f, t);
        return false;
    }

    if (push_err) {
        uint32_t esp = f->esp - 4;
        if ((e = glin_write(seg_base((uint16_t)f->ss) + esp, &err, 4, glin_acc(), &fva))) {
            deliver_pf(f, fva, e);
            return false;
        }
        f->esp = esp;
    }
    struct seg_desc cs;
    guest_desc_own(ns.sel[SEG_CS], &cs);
    if (f->eip > desc_limit(cs)) { deliver_exception(f, EXC_GP, ext); return false; }
    return true;
}

void task_after_switch(struct guest_frame *f)
{
    if (!t_flag) return;
    t_flag = false;
    vcpu.dr[6] |= DR6_BT;
    deliver_exception(f, EXC_DB, 0);
}

/* Refuse a 16-bit TSS that would otherwise be switched to; deliver any other fault. true
 * when the switch may go on. */
static bool checked(struct guest_frame *f, struct task_fault t, uint16_t sel)
{
    if (t.vector == TASK_TSS16)
        guest_stop(STOP_UNSUPPORTED, "a task switch to the 16-bit TSS %04x; only 32-bit TSSs are supported", sel);
    if (t.vector != TASK_OK) { fault(f, t); return false; }
    return true;
}

/* Before a switch that may load CR3: the pool holds what the new root may take (this may
 * suspend, and the instruction then runs again). */
static void reserve(void)
{
    if (vcpu.cr0 & CR0_PG) pt_reserve();
}

void task_far(struct guest_frame *f, uint16_t sel, struct seg_desc d, bool call, uint32_t next_eip)
{
    enum task_cause c = call ? TASK_CALL : TASK_JMP;
    if (!checked(f, task_check_far(sel, d, vcpu.cpl), sel)) return;
    uint16_t tss = sel;
    bool in_gdt = !(sel & SEL_TI);
    if ((desc_access(d) & DESC_TYPE_MASK) == DESC_TYPE_TASKGATE) {
        tss = gate_selector((struct gate_desc){ d.lo, d.hi });
        in_gdt = gdt_desc(tss, &d);
    }
    if (!checked(f, task_check_tss(c, tss, in_gdt, d, 0), tss)) return;
    reserve();
    if (do_switch(f, c, tss, d, next_eip, false, 0, 0)) task_after_switch(f);
}

/* The length of the IRET at the guest's CS:EIP: its prefixes, then CF; 0 if it is not one. */
static uint32_t iret_length(const struct guest_frame *f)
{
    uint32_t lin = seg_base((uint16_t)f->cs) + f->eip, fva;
    for (uint32_t i = 0; i < 15; i++) {
        uint8_t b;
        if (glin_read(lin + i, &b, 1, glin_fetch_acc(), &fva)) return 0;
        if (b == 0xcf) return i + 1;
        bool prefix = b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e ||
                      b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
        if (!prefix) return 0;
    }
    return 0;
}

void task_return(struct guest_frame *f)
{
    uint32_t len = iret_length(f), fva, e;
    uint16_t link = 0;
    struct seg_desc d;
    if (!len) len = 1;
    if ((e = glin_read(vcpu.tr_base + TSS_LINK, &link, 2, 0, &fva))) { deliver_pf(f, fva, e); return; }
    if (!checked(f, task_check_tss(TASK_IRET, link, gdt_desc(link, &d), d, 0), link)) return;
    reserve();
    if (do_switch(f, TASK_IRET, link, d, f->eip + len, false, 0, 0)) task_after_switch(f);
}

bool task_event(struct guest_frame *f, struct gate_desc g, uint32_t ret_eip, bool push_err, uint32_t err, uint32_t ext)
{
    uint16_t tss = gate_selector(g);
    struct seg_desc d;
    if (!checked(f, task_check_tss(TASK_EVENT, tss, gdt_desc(tss, &d), d, ext), tss)) return false;
    return do_switch(f, TASK_EVENT, tss, d, ret_eip, push_err, err, ext);
}

bool task_ts_trap(struct guest_frame *f)
{
    if (!(f->eflags & EFL_NT) || !iret_length(f)) return false;
    emulate_iret(f, false);          /* with NT set: task_return */
    return true;
}

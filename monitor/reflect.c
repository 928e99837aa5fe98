/* Delivering exceptions and interrupts to the guest, and the IRET and far RET that return.
 *
 * The frame the guest's handler finds is the one its CPU would have pushed: its own
 * selectors (virtual RPL = its CPL), its virtual IOPL, the error code, and a stack switch
 * to SS0:ESP0 from the guest's TSS when it goes from user to kernel mode. A fault while
 * delivering becomes a double fault, and a fault while delivering that a triple fault,
 * which stops the guest with its registers.
 */
#include "monitor/reflect.h"
#include "monitor/mon.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "monitor/task.h"
#include "monitor/nmi.h"
#include "paging/paging.h"
#include "arch/x86/regs.h"
#include "arch/x86/mmu.h"

#define EXT 1u          /* error-code bit: an external event caused the fault */
#define IDT_BIT 2u      /* error-code bit: the selector index is an IDT vector */

static bool has_error_code(unsigned v)
{
    return v == EXC_DF || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP ||
           v == EXC_PF || v == EXC_AC;
}

/* Contributory exceptions (SDM table 6-4) turn a second one into a double fault. */
static bool contributory(unsigned v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

void set_cpl(unsigned cpl)
{
    if (vcpu.cpl == cpl) return;
    vcpu.cpl = cpl;
    desc_mode_changed();
    pt_set_view();
}

/* The virtual selector the guest believes it has for a real CS or SS. */
static uint32_t vsel(uint32_t real) { return (desc_guest_sel(real) & ~3u) | vcpu.cpl; }

enum kind { K_EXC, K_SOFT, K_EXT, K_NMI };     /* K_NMI: an external interrupt, NMI's */
static unsigned delivering = ~0u;    /* the vector being delivered, ~0 when none */
/* What `delivering` holds for an interrupt (external, or INT n, INT3, INTO) whatever its
 * vector: the SDM's classes (table 6-4) are for exceptions; an interrupt is a benign first
 * event, so INT 8 or IRQ0 on vector 8 meeting a bad gate gets that #GP or #NP, not a
 * triple fault, and INT 14 or INT 10 not a double fault. */
#define INTERRUPT_EVENT 0x100u

static void deliver(struct guest_frame *f, unsigned v, enum kind k, bool push_err, uint32_t err, uint32_t ret_eip);

/* A fault found while delivering `first`: the class rules of SDM table 6-5. */
static void nested_fault(struct guest_frame *f, unsigned first, unsigned second, uint32_t err)
{
    delivering = ~0u;
    if (second == EXC_PF) err &= 0xffff;
    if (first == EXC_DF)
        guest_stop(STOP_TRIPLE_FAULT, "triple fault: exception %u while delivering a double fault", second);
    bool df = (first == EXC_PF && (second == EXC_PF || contributory(second))) ||
              (contributory(first) && contributory(second));
    if (df) deliver(f, EXC_DF, K_EXC, true, 0, f->eip);
    else deliver(f, second, K_EXC, has_error_code(second), err, f->eip);
}

/* Vector v through the task gate g (present; its DPL checked for INT n): the task switch
 * (monitor/task.c), whose faults nest in this delivery. */
static void deliver_task(struct guest_frame *f, unsigned v, enum kind k, struct gate_desc g, bool push_err,
                         uint32_t err, uint32_t ret_eip)
{
    if (vcpu.cr0 & CR0_PG) {
        /* The new task may bring a new CR3: the pool is filled first. That may suspend, and
         * the event then comes again: an exception or INT n when its instruction runs again,
         * an interrupt from pending_vector, an NMI from the latch it was taken from. */
        delivering = ~0u;
        if (k == K_EXT) vcpu.pending_vector = (int32_t)v;
        if (k == K_NMI) { shared->nmi_pending = 1; vcpu.nmi_blocked = false; }
        pt_reserve();
        if (k == K_EXT) vcpu.pending_vector = -1;
        if (k == K_NMI) { shared->nmi_pending = 0; vcpu.nmi_blocked = true; }
        delivering = v;
    }
    if (!task_event(f, g, ret_eip, push_err, err, k == K_EXT || k == K_NMI ? EXT : 0)) return;
    delivering = ~0u;
    vcpu.delivered++;
    task_after_switch(f);
}

static void deliver(struct guest_frame *f, unsigned v, enum kind k, bool push_err, uint32_t err, uint32_t ret_eip)
{
    unsigned outer = delivering;
    uint32_t ext = k == K_EXT || k == K_NMI ? EXT : 0, fva;
    if (v == EXC_PF) err &= 0xffff;        /* drop the walker's fault flag */
    if (outer != ~0u) { nested_fault(f, outer, v, err); return; }
    if (k == K_EXC) nmi_fault_delivered();
    unsigned first = k == K_EXC ? v : INTERRUPT_EVENT;
    delivering = first;
    shared->count.reflected[v & 31] += v < 32;

    /* The gate. */
    uint32_t gate[2];
    if (v * 8 + 7 > vcpu.idt_limit) { nested_fault(f, first, EXC_GP, v * 8 + IDT_BIT + ext); return; }
    uint32_t e = glin_read(vcpu.idt_base + v * 8, gate, 8, 0, &fva);
    if (e) { vcpu.cr2 = fva; nested_fault(f, first, EXC_PF, e); return; }
    struct gate_desc g = { gate[0], gate[1] };
    unsigned type = gate_type(g);
    if (k == K_SOFT && gate_dpl(g) < vcpu.cpl) { delivering = ~0u; deliver(f, EXC_GP, K_EXC, true, v * 8 + IDT_BIT, f->eip); return; }
    if (type != DESC_TYPE_INTGATE32 && type != DESC_TYPE_TRAPGATE32) {
        if (type == DESC_TYPE_TASKGATE) {
            if (!gate_present(g)) { nested_fault(f, first, EXC_NP, v * 8 + IDT_BIT + ext); return; }
            deliver_task(f, v, k, g, push_err, err, ret_eip);
            return;
        }
        if (gate_present(g) && (type == 6 || type == 7))
            guest_stop(STOP_UNSUPPORTED, "vector %u has a 16-bit gate; not supported", v);
        nested_fault(f, first, EXC_GP, v * 8 + IDT_BIT + ext);
        return;
    }
    if (!gate_present(g)) { nested_fault(f, first, EXC_NP, v * 8 + IDT_BIT + ext); return; }

    /* The target code segment and privilege. */
    uint16_t sel = gate_selector(g);
    struct seg_desc cs;
    /* Code, of a DPL not above the CPL (conforming code too, SDM INT), then present. */
    if (!guest_desc_own(sel, &cs) || !desc_is_code(cs) || desc_dpl(cs) > vcpu.cpl) {
        nested_fault(f, first, EXC_GP, (sel & ~3u) + ext);
        return;
    }
    if (!desc_present(cs)) { nested_fault(f, first, EXC_NP, (sel & ~3u) + ext); return; }
    if (gate_offset(g) > desc_limit(cs)) { nested_fault(f, first, EXC_GP, ext); return; }
    unsigned dpl = (desc_access(cs) & DESC_TYPE_CONFORMING) ? vcpu.cpl : desc_dpl(cs);
    if (dpl != 0 && dpl != 3)
        guest_stop(STOP_UNSUPPORTED, "vector %u targets privilege level %u; only 0 and 3 are supported", v, dpl);

    /* The stack: the guest TSS's SS0:ESP0 on a change to kernel mode, else the current one. */
    uint32_t frame[6], n = 0, ss = f->ss, esp = f->esp;
    bool inner = dpl < vcpu.cpl;
    if (inner) {
        uint32_t ss0 = 0, esp0 = 0;
        if (vcpu.tr_limit < 9) { nested_fault(f, first, EXC_TS, (vcpu.tr & ~3u) + ext); return; }
        if ((e = glin_read(vcpu.tr_base + 4, &esp0, 4, 0, &fva)) || (e = glin_read(vcpu.tr_base + 8, &ss0, 2, 0, &fva))) {
            vcpu.cr2 = fva; nested_fault(f, first, EXC_PF, e); return;
        }
        struct seg_desc sd;
        if (!guest_desc_own((uint16_t)ss0, &sd) || !desc_is_wdata(sd) || (ss0 & 3) != dpl || desc_dpl(sd) != dpl) {
            nested_fault(f, first, EXC_TS, (ss0 & ~3u) + ext); return;
        }
        /* A stack segment not present is #SS (SDM INT; QEMU raises #TS). */
        if (!desc_present(sd)) { nested_fault(f, first, EXC_SS, (ss0 & ~3u) + ext); return; }
        frame[n++] = vsel(f->ss);
        frame[n++] = f->esp;
        ss = (ss0 & ~3u) | 3;
        esp = esp0;
    }
    frame[n++] = guest_eflags(f);
    frame[n++] = vsel(f->cs);
    frame[n++] = ret_eip;
    if (push_err) frame[n++] = err;
    /* Push in the order the CPU does, one word at a time from the highest: a page fault names
     * the first push that meets it (the words before it are written). A frame within one page
     * goes in one write: there the first push is the one that would fault. Pushed from user
     * mode onto the kernel's stack, the words are supervisor-mode accesses made at CPL 3:
     * implicit ones, which SMAP refuses on a user page whatever AC says; pushed at the
     * handler's own level they are explicit, at CPL 0 subject to AC (SDM Vol. 3A 4.6.1). */
    uint32_t top = seg_base((uint16_t)ss) + esp, acc = inner ? 0 : glin_acc();
    if (((top - 1) ^ (top - 4 * n)) < PAGE_SIZE) {
        uint32_t words[6];
        for (uint32_t i = 0; i < n; i++) words[n - 1 - i] = frame[i];
        if ((e = glin_write(top - 4 * n, words, 4 * n, acc, &fva))) {
            vcpu.cr2 = top - 4; nested_fault(f, first, EXC_PF, (e & 0xffff) | (dpl == 3 ? PFEC_U : 0)); return;
        }
        esp -= 4 * n;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            esp -= 4;
            if ((e = glin_write(seg_base((uint16_t)ss) + esp, &frame[i], 4, acc, &fva))) {
                vcpu.cr2 = fva; nested_fault(f, first, EXC_PF, (e & 0xffff) | (dpl == 3 ? PFEC_U : 0)); return;
            }
        }
    }

    f->ss = ss;
    f->esp = esp;
    f->cs = (sel & ~3u) | 3;
    f->eip = gate_offset(g);
    f->eflags &= ~(EFL_TF | EFL_NT | EFL_RF | EFL_VM);
    if (type == DESC_TYPE_INTGATE32) f->eflags &= ~EFL_IF;
    delivering = ~0u;
    vcpu.delivered++;
    set_cpl(dpl);
}

void deliver_exception(struct guest_frame *f, unsigned v, uint32_t error)
{
    deliver(f, v, K_EXC, has_error_code(v), error, f->eip);
}

void deliver_pf(struct guest_frame *f, uint32_t va, uint32_t error)
{
    vcpu.cr2 = va;
    deliver(f, EXC_PF, K_EXC, true, error, f->eip);
}

void deliver_soft(struct guest_frame *f, unsigned v, uint32_t next_eip)
{
    shared->count.emulated[EMU_INT]++;
    deliver(f, v, K_SOFT, false, 0, next_eip);
}

void deliver_interrupt(struct guest_frame *f, unsigned v)
{
    deliver(f, v, K_EXT, false, 0, f->eip);
}

void deliver_nmi(struct guest_frame *f)
{
    deliver(f, EXC_NMI, K_NMI, false, 0, f->eip);
}

/* Read n stack words at ESP+skip without moving ESP; false after delivering the fault. */
static bool pop_words(struct guest_frame *f, uint32_t *w, unsigned n, bool op16, uint32_t skip)
{
    uint32_t fva, e, acc = glin_acc();
    unsigned size = op16 ? 2 : 4;
    uint32_t at = seg_base((uint16_t)f->ss) + f->esp + skip;
    if (!op16 && (at ^ (at + 4 * n - 1)) < PAGE_SIZE) {
        /* Within one page: one read, and a fault names its first word, as the CPU's would. */
        if ((e = glin_read(at, w, 4 * n, acc, &fva))) { deliver_pf(f, fva, e); return false; }
        return true;
    }
    for (unsigned i = 0; i < n; i++) {
        w[i] = 0;
        e = glin_read(at + i * size, &w[i], size, acc, &fva);
        if (e) { deliver_pf(f, fva, e); return false; }
    }
    return true;
}

/* Check the code segment a return goes to (its descriptor in *cd); false after delivering
 * #GP or #NP. */
static bool return_cs_ok(struct guest_frame *f, uint32_t cs, struct seg_desc *cd)
{
    unsigned rpl = cs & 3;
    bool found = guest_desc_own((uint16_t)cs, cd);
    struct seg_desc d = *cd;
    if (!found || !desc_is_code(d) || rpl < vcpu.cpl ||
        ((desc_access(d) & DESC_TYPE_CONFORMING) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)) {
        deliver_exception(f, EXC_GP, cs & ~3u);
        return false;
    }
    if (!desc_present(d)) { deliver_exception(f, EXC_NP, cs & ~3u); return false; }
    if (rpl != 0 && rpl != 3)
        guest_stop(STOP_UNSUPPORTED, "return to privilege level %u; only 0 and 3 are supported", rpl);
    return true;
}

/* On a return to an outer level, data segments the new level may not use become null. */
static void null_inner_segments(struct guest_frame *f, unsigned cpl)
{
    uint32_t *regs[4] = { &f->ds, &f->es, &f->fs, &f->gs };
    for (int i = 0; i < 4; i++) {
        struct seg_desc d;
        if (!guest_desc((uint16_t)*regs[i], &d)) continue;
        bool conforming_code = desc_is_code(d) && (desc_access(d) & DESC_TYPE_CONFORMING);
        if (!conforming_code && desc_dpl(d) < cpl) *regs[i] = 0;
    }
}

/* The common tail of IRET and far RET: CS:EIP, and SS:ESP when going outward. */
static bool do_return(struct guest_frame *f, uint32_t eip, uint32_t cs, struct seg_desc cd, uint32_t pop_bytes,
                      bool op16)
{
    unsigned rpl = cs & 3;
    bool outward = rpl > vcpu.cpl;
    uint32_t w[2];
    if (outward) {
        if (!pop_words(f, w, 2, op16, pop_bytes)) return false;
        struct seg_desc sd;
        if (!guest_desc_own((uint16_t)w[1], &sd) || !desc_is_wdata(sd) || (w[1] & 3) != rpl || desc_dpl(sd) != rpl) {
            deliver_exception(f, EXC_GP, w[1] & ~3u);
            return false;
        }
        /* A stack segment not present is #SS (SDM IRET and RET; QEMU raises #NP). */
        if (!desc_present(sd)) { deliver_exception(f, EXC_SS, w[1] & ~3u); return false; }
    }
    /* The return address must lie inside the code segment (SDM IRET, RET: #GP(0)). */
    if (eip > desc_limit(cd)) { deliver_exception(f, EXC_GP, 0); return false; }
    if (outward) {
        f->esp = w[0];
        f->ss = (w[1] & ~3u) | 3;
        null_inner_segments(f, rpl);
    } else {
        f->esp += pop_bytes;
    }
    f->eip = eip;
    f->cs = (cs & ~3u) | 3;
    set_cpl(rpl);
    return true;
}

/* IRET: a task return with NT, else the return through the frame on the stack. */
static void iret(struct guest_frame *f, bool op16)
{
    uint32_t w[3];
    if (f->eflags & EFL_NT) { task_return(f); return; }      /* a task return (monitor/task.c) */
    if (op16) guest_stop(STOP_UNSUPPORTED, "16-bit IRET; not supported");
    desc_sync(f);
    if (!pop_words(f, w, 3, op16, 0)) return;
    if (w[2] & EFL_VM) guest_stop(STOP_UNSUPPORTED, "IRET to virtual-8086 mode; not supported");
    struct seg_desc cd;
    if (!return_cs_ok(f, w[1], &cd)) return;
    /* Which flags an IRET may change depends on the privilege it runs at (SDM IRET). */
    uint32_t mask = EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_TF | EFL_DF | EFL_OF | EFL_NT |
                    EFL_RF | EFL_AC | EFL_ID;
    if (vcpu.cpl <= vcpu.iopl) mask |= EFL_IF;
    if (vcpu.cpl == 0) mask |= EFL_IOPL | EFL_VIF | EFL_VIP;
    if (do_return(f, w[0], w[1] & 0xffff, cd, 12, op16))
        set_guest_eflags(f, w[2], mask);
}

void emulate_iret(struct guest_frame *f, bool op16)
{
    shared->count.emulated[EMU_IRET]++;
    iret(f, op16);
    /* Done, or its fault delivered (an IRET that suspends comes again and never gets here):
     * NMIs are no longer blocked, the fault's handler runs unblocked (SDM Vol. 3C 27.2.3). */
    nmi_iret_done();
}

void emulate_retf(struct guest_frame *f, uint32_t imm, bool op16)
{
    uint32_t w[2];
    shared->count.emulated[EMU_RETF]++;
    if (op16) guest_stop(STOP_UNSUPPORTED, "16-bit far return; not supported");
    desc_sync(f);
    if (!pop_words(f, w, 2, op16, 0)) return;
    struct seg_desc cd;
    if (!return_cs_ok(f, w[1], &cd)) return;
    bool outward = (w[1] & 3) > vcpu.cpl;
    /* Going outward, the parameters are released from the new stack as well (SDM RET). */
    if (do_return(f, w[0], w[1] & 0xffff, cd, 8 + imm, op16) && outward) f->esp += imm;
}

/* Call gates. The real tables hold no gates (desc.c shadows only code and data descriptors),
 * so a far CALL or JMP naming one faults on the real CPU, or, in the guest kernel, is one the
 * scanner patched; either way the monitor performs it here as the guest's CPU would. The guest
 * runs at privilege 0 and 3 only, so an inward call is always from its user mode to its kernel
 * (SS0:ESP0 of its TSS), and a gate to code at privilege 1 or 2 stops the guest. */
#include "monitor/callgate.h"
#include "monitor/mon.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "monitor/reflect.h"
#include "arch/x86/mmu.h"
#include "arch/x86/regs.h"

#define CALL_GATE_PARAMS 0x1fu     /* the gate's parameter count: dwords copied inward */

/* The guest's view of a real selector, with RPL rpl. */
static uint32_t guest_sel(uint32_t real, unsigned rpl) { return (desc_guest_sel(real) & ~3u) | rpl; }

/* Push n words (w[0] first, so at the highest address) below top; false after delivering the
 * #PF of the first push that faults. acc: the new privilege's rights. */
static bool push_words(struct guest_frame *f, uint32_t top, const uint32_t *w, unsigned n, unsigned acc)
{
    uint32_t fva, e;
    for (unsigned i = 0; i < n; i++) {
        if ((e = glin_write(top - 4 * (i + 1), &w[i], 4, acc | ACC_WRITE, &fva))) { deliver_pf(f, fva, e); return false; }
    }
    return true;
}

/* The stack an inward call to privilege dpl switches to: SS and ESP from the guest's TSS,
 * with the checks of SDM CALL (#TS on the stack selector, #SS when it is not present); false
 * after delivering the fault. */
static bool inner_stack(struct guest_frame *f, unsigned dpl, uint32_t *ss, uint32_t *esp)
{
    uint32_t fva, e, at = 4 + 8 * dpl;
    uint16_t sel = 0;
    if (at + 5 > vcpu.tr_limit) { deliver_exception(f, EXC_TS, vcpu.tr & ~3u); return false; }
    if ((e = glin_read(vcpu.tr_base + at, esp, 4, 0, &fva)) || (e = glin_read(vcpu.tr_base + at + 4, &sel, 2, 0, &fva))) {
        deliver_pf(f, fva, e);
        return false;
    }
    struct seg_desc sd;
    if (!(sel & ~3u) || (sel & 3) != dpl || !guest_desc_own(sel, &sd) || !desc_is_wdata(sd) || desc_dpl(sd) != dpl) {
        deliver_exception(f, EXC_TS, sel & ~3u);
        return false;
    }
    if (!desc_present(sd)) { deliver_exception(f, EXC_SS, sel & ~3u); return false; }
    *ss = sel;
    return true;
}

void call_gate(struct guest_frame *f, uint16_t gsel, struct seg_desc gd, bool call, uint32_t next_eip)
{
    struct gate_desc g = { gd.lo, gd.hi };
    /* The gate: reachable from this privilege with this RPL, and present. */
    if (gate_dpl(g) < vcpu.cpl || gate_dpl(g) < (gsel & 3u)) { deliver_exception(f, EXC_GP, gsel & ~3u); return; }
    if (!gate_present(g)) { deliver_exception(f, EXC_NP, gsel & ~3u); return; }
    /* The code segment it names. */
    uint16_t sel = gate_selector(g);
    struct seg_desc cd;
    if (!(sel & ~3u)) { deliver_exception(f, EXC_GP, 0); return; }
    if (!guest_desc_own(sel, &cd) || !desc_is_code(cd) || desc_dpl(cd) > vcpu.cpl) {
        deliver_exception(f, EXC_GP, sel & ~3u);
        return;
    }
    bool conforming = desc_access(cd) & DESC_TYPE_CONFORMING;
    if (!call && !conforming && desc_dpl(cd) != vcpu.cpl) { deliver_exception(f, EXC_GP, sel & ~3u); return; }
    if (!desc_present(cd)) { deliver_exception(f, EXC_NP, sel & ~3u); return; }
    unsigned dpl = conforming ? vcpu.cpl : desc_dpl(cd);
    if (dpl != 0 && dpl != 3)
        guest_stop(STOP_UNSUPPORTED, "a call gate (%04x) to code of privilege %u; only 0 and 3 are supported", gsel, dpl);
    uint32_t eip = gate_offset(g);
    shared->count.emulated[EMU_CALL_GATE]++;

    if (call && dpl < vcpu.cpl) {
        /* Inward: the new stack from the TSS, then the old SS and ESP, the parameters as they
         * lie on the old stack, the old CS and EIP. */
        uint32_t ss, esp, fva, e, w[4 + CALL_GATE_PARAMS], n = 0, params = gd.hi & CALL_GATE_PARAMS;
        if (!inner_stack(f, dpl, &ss, &esp)) return;
        if (eip > desc_limit(cd)) { deliver_exception(f, EXC_GP, 0); return; }
        w[n++] = guest_sel(f->ss, vcpu.cpl);
        w[n++] = f->esp;
        for (uint32_t i = params; i > 0; i--) {
            uint32_t v = 0;
            if ((e = glin_read(seg_base((uint16_t)f->ss) + f->esp + 4 * (i - 1), &v, 4, glin_acc(), &fva))) {
                deliver_pf(f, fva, e);
                return;
            }
            w[n++] = v;
        }
        w[n++] = guest_sel(f->cs, vcpu.cpl);
        w[n++] = next_eip;
        struct seg_desc sd;
        guest_desc_own((uint16_t)ss, &sd);
        if (!push_words(f, desc_base(sd) + esp, w, n, dpl == 3 ? ACC_USER : 0)) return;
        f->ss = (ss & ~3u) | 3;
        f->esp = esp - 4 * n;
    } else {
        if (eip > desc_limit(cd)) { deliver_exception(f, EXC_GP, 0); return; }
        if (call) {
            uint32_t w[2] = { guest_sel(f->cs, vcpu.cpl), next_eip };
            if (!push_words(f, seg_base((uint16_t)f->ss) + f->esp, w, 2, glin_acc())) return;
            f->esp -= 8;
        }
    }
    desc_sync(f);
    f->cs = (sel & ~3u) | 3;
    f->eip = eip;
    set_cpl(dpl);
}

/* The virtual local APIC: priorities (TPR, PPR, ISR, IRR), EOI, the LVT, the timer, the
 * error status register and interprocessor interrupts on a machine with one CPU.
 *
 * A vector enters the IRR when a message arrives (IOAPIC, the timer, a self-IPI). The CPU
 * takes the highest one whose priority class (vector >> 4) is above the processor priority:
 * the TPR, or the class of the highest vector in service if that is higher. Taking it moves
 * it to the ISR; an EOI clears the highest bit of the ISR and, for a level-triggered vector
 * (its TMR bit), tells the IOAPIC so it clears that pin's remote IRR. The timer is computed
 * from elapsed device time, as the 8254 is: nothing ticks. A software-disabled APIC (SVR bit
 * 8 clear) delivers nothing and keeps every LVT entry masked, as the SDM says.
 * An NMI (an NMI IPI, an IOAPIC entry in NMI mode, a rising edge on LINT0 in NMI mode) goes
 * around all of that: it sets `nmi`, which the CPU takes (vlapic_take_nmi); a disabled APIC
 * still takes NMIs.
 */
#include "supervisor/dev/vlapic.h"
#include "arch/x86/apic.h"
#include "lib/string.h"

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* The bits of each LVT entry the guest can write (delivery status and remote IRR are not). */
static const uint32_t lvt_writable[VLAPIC_LVTS] = {
    LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE,
    LVT_VECTOR | LVT_DM_MASK | LVT_MASKED,
    LVT_VECTOR | LVT_DM_MASK | LVT_MASKED,
    LVT_VECTOR | LVT_DM_MASK | (1u << 13) | LVT_LEVEL | LVT_MASKED,
    LVT_VECTOR | LVT_DM_MASK | (1u << 13) | LVT_LEVEL | LVT_MASKED,
    LVT_VECTOR | LVT_MASKED,
};

#define ICR_WRITABLE (0xfffu | ICR_ASSERT | ICR_LEVEL | (3u << ICR_SHORT_SHIFT))

void vlapic_init(struct vlapic *l)
{
    void (*cb)(void *, uint8_t) = l->eoi_level;
    void *ctx = l->eoi_ctx;
    memset(l, 0, sizeof *l);
    l->eoi_level = cb;
    l->eoi_ctx = ctx;
    l->dfr = 0xffffffffu;
    l->svr = LAPIC_SVR_ENABLE | 0xff;
    for (unsigned i = 0; i < VLAPIC_LVTS; i++) l->lvt[i] = LVT_MASKED;
    l->lvt[LVT_LINT0] = DM_EXTINT << LVT_DM_SHIFT | LVT_LEVEL;
    l->lvt[LVT_LINT1] = DM_NMI << LVT_DM_SHIFT | LVT_LEVEL;
}

/* Test, set and clear vector v in a 256-bit set. */
static bool bit_get(const uint32_t *set, unsigned v) { return set[v >> 5] & (1u << (v & 31)); }
static void bit_set(uint32_t *set, unsigned v) { set[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t *set, unsigned v) { set[v >> 5] &= ~(1u << (v & 31)); }

/* The highest vector set in a 256-bit set, or -1. */
static int highest(const uint32_t *set)
{
    for (int w = 7; w >= 0; w--)
        if (set[w]) return w * 32 + 31 - __builtin_clz(set[w]);
    return -1;
}

/* Software-enabled (SVR bit 8)? */
static bool enabled(const struct vlapic *l) { return l->svr & LAPIC_SVR_ENABLE; }

uint32_t vlapic_ppr(const struct vlapic *l)
{
    int isrv = highest(l->isr);
    uint32_t cls = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (l->tpr & 0xf0) >= cls ? l->tpr & 0xff : cls;
}

/* An error: it shows in the ESR after the guest's next write to it, and raises the LVT
 * error interrupt unless that is masked. */
static void error(struct vlapic *l, uint32_t bits)
{
    l->esr_new |= bits;
    uint32_t e = l->lvt[LVT_ERROR];
    if (!(e & LVT_MASKED) && (e & LVT_VECTOR) >= 16) {
        bit_set(l->irr, e & LVT_VECTOR);
        bit_clear(l->tmr, e & LVT_VECTOR);
    }
}

void vlapic_accept(struct vlapic *l, uint8_t vector, bool level)
{
    if (vector < 16) { error(l, ESR_RECV_ILLEGAL_VECTOR); return; }
    bit_set(l->irr, vector);
    if (level) bit_set(l->tmr, vector); else bit_clear(l->tmr, vector);
}

bool vlapic_match(const struct vlapic *l, uint8_t dest, bool logical)
{
    if (dest == 0xff) return true;
    if (!logical) return dest == l->id;
    uint8_t mine = (uint8_t)(l->ldr >> 24);
    if ((l->dfr >> 28) == 0xf) return dest & mine;                      /* flat model */
    return (dest >> 4) == (mine >> 4) && (dest & mine & 0x0f);          /* cluster model */
}

int vlapic_pending(const struct vlapic *l)
{
    int v = highest(l->irr);
    if (!enabled(l) || v < 0) return -1;
    if (((uint32_t)v & 0xf0) <= (vlapic_ppr(l) & 0xf0)) return -1;
    return v;
}

uint8_t vlapic_ack(struct vlapic *l)
{
    int v = vlapic_pending(l);
    if (v < 0) return (uint8_t)(l->svr & 0xff);     /* the spurious vector */
    bit_clear(l->irr, (unsigned)v);
    bit_set(l->isr, (unsigned)v);
    return (uint8_t)v;
}

/* LINT0's delivery mode, or -1 while it is masked. */
static int lint0_mode(const struct vlapic *l)
{
    uint32_t e = l->lvt[LVT_LINT0];
    return (e & LVT_MASKED) ? -1 : (int)((e & LVT_DM_MASK) >> LVT_DM_SHIFT);
}

bool vlapic_lint0_open(const struct vlapic *l) { return lint0_mode(l) == DM_EXTINT; }
bool vlapic_lint0_nmi(const struct vlapic *l) { return lint0_mode(l) == DM_NMI; }

void vlapic_nmi(struct vlapic *l)
{
    l->nmi = true;
    l->nmis++;
}

bool vlapic_take_nmi(struct vlapic *l)
{
    bool n = l->nmi;
    l->nmi = false;
    return n;
}

void vlapic_lint0(struct vlapic *l, bool level)
{
    bool rising = level && !l->lint0_in;
    l->lint0_in = level;
    if (rising && vlapic_lint0_nmi(l)) vlapic_nmi(l);
}

/* End of interrupt: the highest vector in service is done. */
static void eoi(struct vlapic *l)
{
    int v = highest(l->isr);
    if (v < 0) return;
    bit_clear(l->isr, (unsigned)v);
    if (bit_get(l->tmr, (unsigned)v) && l->eoi_level) l->eoi_level(l->eoi_ctx, (uint8_t)v);
}

/* ---- the timer ---- */

/* The divide configuration as a shift: 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1. */
static unsigned timer_shift(const struct vlapic *l)
{
    unsigned v = (l->timer_dcr & 3) | ((l->timer_dcr >> 1) & 4);
    return (v + 1) & 7;
}

/* Is the timer in periodic mode (else one-shot)? */
static bool periodic(const struct vlapic *l) { return (l->lvt[LVT_TIMER] & LVT_TIMER_MODE) == LVT_TIMER_PERIODIC; }

/* Timer ticks (after the divider) since the initial count was written. */
static uint64_t timer_ticks(const struct vlapic *l, uint64_t now)
{
    if (now <= l->timer_start) return 0;
    return ((now - l->timer_start) / VLAPIC_TICK_NS) >> timer_shift(l);
}

/* How many times the count has reached zero by now. */
static uint64_t expirations(const struct vlapic *l, uint64_t now)
{
    if (!l->timer_init) return 0;
    uint64_t t = timer_ticks(l, now);
    if (periodic(l)) return t / l->timer_init;
    return t >= l->timer_init;
}

/* The current count register at time now: it stops at 0 in one-shot mode. */
static uint32_t current_count(const struct vlapic *l, uint64_t now)
{
    if (!l->timer_init) return 0;
    uint64_t t = timer_ticks(l, now);
    if (periodic(l)) return l->timer_init - (uint32_t)(t % l->timer_init);
    return t >= l->timer_init ? 0 : l->timer_init - (uint32_t)t;
}

void vlapic_update(struct vlapic *l, uint64_t now)
{
    uint64_t n = expirations(l, now);
    if (n <= l->timer_fired) return;
    l->timer_fired = n;          /* several expirations since the last look are one IRR bit */
    uint32_t e = l->lvt[LVT_TIMER];
    if (!(e & LVT_MASKED)) vlapic_accept(l, (uint8_t)(e & LVT_VECTOR), false);
}

/* ---- the interrupt command register ---- */

/* Send the IPI the guest just wrote to ICR low. One CPU: only this one can receive it. */
static void send_ipi(struct vlapic *l)
{
    uint32_t lo = l->icr_lo;
    unsigned mode = (lo & LVT_DM_MASK) >> LVT_DM_SHIFT, shorthand = (lo >> ICR_SHORT_SHIFT) & 3;
    uint8_t vector = (uint8_t)(lo & LVT_VECTOR);
    bool to_me = shorthand == ICR_SHORT_SELF || shorthand == ICR_SHORT_ALL ||
                 (shorthand == ICR_SHORT_NONE && vlapic_match(l, (uint8_t)(l->icr_hi >> 24), lo & ICR_LOGICAL));
    if (mode == DM_FIXED || mode == DM_LOWEST) {
        if (vector < 16) { error(l, ESR_SEND_ILLEGAL_VECTOR | (to_me ? ESR_RECV_ILLEGAL_VECTOR : 0)); return; }
        if (to_me) { vlapic_accept(l, vector, false); return; }
    }
    /* An NMI ignores the vector. The xAPIC's table of valid ICR combinations (SDM Vol. 3A
     * 10.6.1) leaves NMI with the self and all-including-self shorthands undefined; it is
     * delivered, as QEMU and the P6's APIC deliver it. */
    if (mode == DM_NMI && to_me) { vlapic_nmi(l); return; }
    /* INIT, start-up, SMI, or nobody there: the message goes out on the bus and no
     * processor acts on it; delivery status is idle again at once. */
    l->ipis_dropped++;
}

/* ---- registers ---- */

uint32_t vlapic_read(struct vlapic *l, uint32_t off, unsigned size, uint64_t now)
{
    uint32_t reg = off & 0xff0, v;
    vlapic_update(l, now);
    if (reg >= LAPIC_ISR && reg < LAPIC_ISR + 0x80) v = l->isr[(reg - LAPIC_ISR) >> 4];
    else if (reg >= LAPIC_TMR && reg < LAPIC_TMR + 0x80) v = l->tmr[(reg - LAPIC_TMR) >> 4];
    else if (reg >= LAPIC_IRR && reg < LAPIC_IRR + 0x80) v = l->irr[(reg - LAPIC_IRR) >> 4];
    else if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) v = l->lvt[(reg - LAPIC_LVT_TIMER) >> 4];
    else switch (reg) {
    case LAPIC_ID: v = (uint32_t)l->id << LAPIC_ID_SHIFT; break;
    case LAPIC_VERSION: v = VLAPIC_VERSION | (VLAPIC_LVTS - 1) << 16; break;
    case LAPIC_TPR: v = l->tpr; break;
    case LAPIC_APR: v = 0; break;            /* one CPU: it never arbitrates */
    case LAPIC_PPR: v = vlapic_ppr(l); break;
    case LAPIC_EOI: v = 0; break;
    case LAPIC_LDR: v = l->ldr; break;
    case LAPIC_DFR: v = l->dfr; break;
    case LAPIC_SVR: v = l->svr; break;
    case LAPIC_ESR: v = l->esr; break;
    case LAPIC_ICR_LO: v = l->icr_lo; break;
    case LAPIC_ICR_HI: v = l->icr_hi; break;
    case LAPIC_TIMER_INIT: v = l->timer_init; break;
    case LAPIC_TIMER_CUR: v = current_count(l, now); break;
    case LAPIC_TIMER_DCR: v = l->timer_dcr; break;
    default: error(l, ESR_ILLEGAL_REGISTER); v = 0; break;
    }
    v >>= (off & 3) * 8;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

/* A write to an LVT entry; while software-disabled the mask stays set. */
static void write_lvt(struct vlapic *l, unsigned n, uint32_t v, uint64_t now)
{
    l->lvt[n] = (l->lvt[n] & ~lvt_writable[n]) | (v & lvt_writable[n]);
    if (!enabled(l)) l->lvt[n] |= LVT_MASKED;
    if (n == LVT_TIMER) l->timer_fired = expirations(l, now);   /* a new mode does not fire the past */
}

void vlapic_write(struct vlapic *l, uint32_t off, unsigned size, uint32_t v, uint64_t now)
{
    uint32_t reg = off & 0xff0;
    if (size < 4 || (off & 0xf)) return;      /* the APIC takes aligned 32-bit writes only */
    vlapic_update(l, now);
    if (reg >= LAPIC_LVT_TIMER && reg <= LAPIC_LVT_ERROR) { write_lvt(l, (reg - LAPIC_LVT_TIMER) >> 4, v, now); return; }
    if (reg >= LAPIC_ISR && reg < LAPIC_IRR + 0x80) return;     /* ISR, TMR, IRR: read-only */
    switch (reg) {
    case LAPIC_ID: l->id = (uint8_t)(v >> LAPIC_ID_SHIFT); break;
    case LAPIC_VERSION: case LAPIC_APR: case LAPIC_PPR: case LAPIC_TIMER_CUR: break;   /* read-only */
    case LAPIC_TPR: l->tpr = v & 0xff; break;
    case LAPIC_EOI: eoi(l); break;
    case LAPIC_LDR: l->ldr = v & 0xff000000u; break;
    case LAPIC_DFR: l->dfr = v | 0x0fffffffu; break;
    case LAPIC_SVR:
        /* The vector and the software enable: bit 9 (focus processor checking) is reserved
         * on the Pentium 4 and Xeon's xAPIC this version (0x14) names, as in QEMU's, and bit
         * 12 (EOI broadcast suppression) needs version bit 24, which is clear. */
        l->svr = v & 0x1ffu;
        if (!enabled(l))
            for (unsigned i = 0; i < VLAPIC_LVTS; i++) l->lvt[i] |= LVT_MASKED;
        break;
    case LAPIC_ESR: l->esr = l->esr_new; l->esr_new = 0; break;
    case LAPIC_ICR_LO: l->icr_lo = v & ICR_WRITABLE; send_ipi(l); break;
    case LAPIC_ICR_HI: l->icr_hi = v & 0xff000000u; break;
    case LAPIC_TIMER_INIT:
        l->timer_init = v;
        l->timer_start = now;
        l->timer_fired = 0;
        break;
    case LAPIC_TIMER_DCR:
        l->timer_dcr = v & 0xb;
        l->timer_fired = expirations(l, now);
        break;
    default: error(l, ESR_ILLEGAL_REGISTER); break;
    }
}

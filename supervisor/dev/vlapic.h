/* The virtual local APIC of a VM's one CPU, at guest-physical 0xfee00000. */
#ifndef SUPERVISOR_DEV_VLAPIC_H
#define SUPERVISOR_DEV_VLAPIC_H
#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_VERSION  0x14u            /* an integrated APIC (P6 family and later) */
#define VLAPIC_LVTS     6u               /* timer, thermal, performance, LINT0, LINT1, error */
#define VLAPIC_TICK_NS  1u               /* the timer's input clock before the divider: 1 GHz */

struct vlapic {
    uint8_t id;
    uint32_t tpr, ldr, dfr, svr;
    uint32_t irr[8], isr[8], tmr[8];     /* 256-bit vectors, 32 vectors a word */
    uint32_t esr;                        /* what the guest reads */
    uint32_t esr_new;                    /* errors since the last write to the ESR */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[VLAPIC_LVTS];
    uint32_t timer_init, timer_dcr;
    uint64_t timer_start;                /* ns when the initial count was written */
    uint64_t timer_fired;                /* expirations already turned into interrupts */
    uint32_t ipis_dropped;               /* INIT, SIPI, SMI and IPIs nobody received */
    bool nmi;                            /* an NMI came for the CPU and waits to be taken */
    bool lint0_in;                       /* the level on LINT0: the 8259's INT output */
    uint32_t nmis;                       /* NMI messages received (IPIs, IOAPIC, LINT0) */
    /* Called by an EOI of a level-triggered vector (TMR set): the IOAPIC's remote IRR. */
    void (*eoi_level)(void *ctx, uint8_t vector);
    void *eoi_ctx;
};

/* The state a PC BIOS leaves: APIC ID 0, software-enabled with spurious vector 0xff,
 * LINT0 ExtINT (the 8259's virtual wire), LINT1 NMI, every other LVT masked. */
void vlapic_init(struct vlapic *l);
/* Register read and write at byte offset off of the page, at time now (ns). Accesses of
 * fewer than 4 bytes read the register's bytes and are ignored as writes. */
uint32_t vlapic_read(struct vlapic *l, uint32_t off, unsigned size, uint64_t now);
void vlapic_write(struct vlapic *l, uint32_t off, unsigned size, uint32_t v, uint64_t now);
/* An interrupt message for this CPU (IOAPIC, LVT, IPI): vector into the IRR. */
void vlapic_accept(struct vlapic *l, uint8_t vector, bool level);
/* Is this CPU the destination: physical ID dest (0xff: everyone), or logical (flat model)? */
bool vlapic_match(const struct vlapic *l, uint8_t dest, bool logical);
/* Bring the timer up to now: an expiry sets its vector in the IRR unless masked. */
void vlapic_update(struct vlapic *l, uint64_t now);
/* The highest vector in the IRR whose priority class is above the PPR's, or -1 (none,
 * or the APIC is software-disabled). */
int vlapic_pending(const struct vlapic *l);
/* The interrupt-acknowledge: the pending vector moves from the IRR to the ISR. */
uint8_t vlapic_ack(struct vlapic *l);
/* Does LINT0 pass the 8259's INT output to the CPU (unmasked, ExtINT mode)? */
bool vlapic_lint0_open(const struct vlapic *l);
/* An NMI message for this CPU (an IPI, an IOAPIC entry, LINT0): it waits until the CPU takes
 * it; another one meanwhile is the same one. A software-disabled APIC takes NMIs too. */
void vlapic_nmi(struct vlapic *l);
/* The CPU takes the waiting NMI, if there is one (true). */
bool vlapic_take_nmi(struct vlapic *l);
/* The level on LINT0 (the 8259's INT output): in NMI mode, unmasked, a rising edge is an NMI;
 * NMI-mode LINTs are edge-triggered whatever their trigger bit says (SDM Vol. 3A 10.5.1). */
void vlapic_lint0(struct vlapic *l, bool level);
/* Could LINT0 send an NMI by itself (unmasked, NMI mode)? */
bool vlapic_lint0_nmi(const struct vlapic *l);
/* The processor priority: the TPR or the class of the highest vector in service. */
uint32_t vlapic_ppr(const struct vlapic *l);

#endif

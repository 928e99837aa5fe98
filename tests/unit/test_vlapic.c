/* The virtual local APIC: identity, priorities, EOI, the timer, ESR, IPIs. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vlapic.h"
#include "arch/x86/apic.h"

static struct vlapic l;
#define RD(r) vlapic_read(&l, (r), 4, 0)
#define WR(r, v) vlapic_write(&l, (r), 4, (v), 0)
#define US 1000ull

TEST(vlapic_identity_and_bios_state)
{
    vlapic_init(&l);
    CHECK_EQ(RD(LAPIC_ID), 0);
    CHECK_EQ(RD(LAPIC_VERSION), 0x00050014);        /* max LVT entry 5 */
    CHECK_EQ(RD(LAPIC_SVR), 0x1ff);
    CHECK_EQ(RD(LAPIC_LVT_LINT0), 0x8700);
    CHECK_EQ(RD(LAPIC_LVT_LINT1), 0x8400);
    CHECK_EQ(RD(LAPIC_LVT_TIMER), 0x10000);
    CHECK_EQ(RD(LAPIC_DFR), 0xffffffffu);
    WR(LAPIC_VERSION, 0);                           /* read-only */
    CHECK_EQ(RD(LAPIC_VERSION), 0x00050014);
    WR(LAPIC_ID, 0x03000000);
    CHECK_EQ(RD(LAPIC_ID), 0x03000000);
    CHECK_EQ(vlapic_read(&l, LAPIC_VERSION, 1, 0), 0x14);
    WR(LAPIC_SVR, 0x13ff);                          /* bits 9 and 12 are reserved here */
    CHECK_EQ(RD(LAPIC_SVR), 0x1ff);
}

TEST(vlapic_priority_tpr_isr_eoi)
{
    vlapic_init(&l);
    vlapic_accept(&l, 0x51, false);
    CHECK_EQ(RD(LAPIC_IRR + 0x20), 1u << (0x51 - 0x40));
    WR(LAPIC_TPR, 0x50);                            /* class 5 blocks vector 0x51 */
    CHECK_EQ(vlapic_pending(&l), -1);
    WR(LAPIC_TPR, 0x4f);
    CHECK_EQ(vlapic_pending(&l), 0x51);
    CHECK_EQ(vlapic_ack(&l), 0x51);
    CHECK_EQ(RD(LAPIC_ISR + 0x20), 1u << (0x51 - 0x40));
    CHECK_EQ(RD(LAPIC_IRR + 0x20), 0);
    CHECK_EQ(RD(LAPIC_PPR), 0x50);                  /* the class in service beats TPR 0x4f */
    vlapic_accept(&l, 0x55, false);                 /* same class: waits for the EOI */
    CHECK_EQ(vlapic_pending(&l), -1);
    vlapic_accept(&l, 0x61, false);                 /* higher class: nests */
    CHECK_EQ(vlapic_ack(&l), 0x61);
    WR(LAPIC_EOI, 0);                               /* ends 0x61, the highest in service */
    CHECK_EQ(RD(LAPIC_ISR + 0x30), 0);
    CHECK_EQ(RD(LAPIC_ISR + 0x20), 1u << (0x51 - 0x40));
    WR(LAPIC_EOI, 0);
    CHECK_EQ(RD(LAPIC_PPR), 0x4f);
    WR(LAPIC_TPR, 0);
    CHECK_EQ(vlapic_ack(&l), 0x55);
}

TEST(vlapic_software_disable_masks_and_blocks)
{
    vlapic_init(&l);
    vlapic_accept(&l, 0x40, false);
    WR(LAPIC_SVR, 0xff);
    CHECK_EQ(vlapic_pending(&l), -1);
    CHECK(RD(LAPIC_LVT_LINT0) & LVT_MASKED);
    CHECK(!vlapic_lint0_open(&l));
    WR(LAPIC_LVT_TIMER, 0x30);                      /* the mask stays while disabled */
    CHECK_EQ(RD(LAPIC_LVT_TIMER), 0x10030);
    WR(LAPIC_SVR, 0x1ff);
    CHECK_EQ(vlapic_pending(&l), 0x40);             /* the IRR was kept */
    WR(LAPIC_LVT_LINT0, 0x700);
    CHECK(vlapic_lint0_open(&l));
}

static unsigned eoi_seen, eoi_vector;
static void on_eoi(void *ctx, uint8_t v) { (void)ctx; eoi_seen++; eoi_vector = v; }

TEST(vlapic_level_eoi_reaches_ioapic)
{
    l.eoi_level = on_eoi;
    vlapic_init(&l);
    CHECK(l.eoi_level == on_eoi);
    eoi_seen = 0;
    vlapic_accept(&l, 0x70, true);
    CHECK_EQ(RD(LAPIC_TMR + 0x30), 1u << 16);
    vlapic_ack(&l);
    WR(LAPIC_EOI, 0);
    CHECK_EQ(eoi_seen, 1);
    CHECK_EQ(eoi_vector, 0x70);
    vlapic_accept(&l, 0x71, false);                 /* edge: no broadcast */
    vlapic_ack(&l);
    WR(LAPIC_EOI, 0);
    CHECK_EQ(eoi_seen, 1);
    l.eoi_level = 0;
}

TEST(vlapic_timer_one_shot)
{
    vlapic_init(&l);
    vlapic_write(&l, LAPIC_TIMER_DCR, 4, 0xb, 0);   /* divide by 1 */
    vlapic_write(&l, LAPIC_LVT_TIMER, 4, 0x40, 0);
    vlapic_write(&l, LAPIC_TIMER_INIT, 4, 100000, 1000);   /* 100 us */
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 51000), 50000);
    vlapic_update(&l, 100999);
    CHECK_EQ(vlapic_pending(&l), -1);
    vlapic_update(&l, 101000);
    CHECK_EQ(vlapic_pending(&l), 0x40);
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 200000), 0);
    vlapic_ack(&l);
    vlapic_write(&l, LAPIC_EOI, 4, 0, 200000);
    vlapic_update(&l, 10000000);
    CHECK_EQ(vlapic_pending(&l), -1);               /* once only */
}

TEST(vlapic_timer_periodic_divider_and_mask)
{
    vlapic_init(&l);
    vlapic_write(&l, LAPIC_TIMER_DCR, 4, 0x1, 0);   /* divide by 4 */
    vlapic_write(&l, LAPIC_LVT_TIMER, 4, LVT_TIMER_PERIODIC | 0x41, 0);
    vlapic_write(&l, LAPIC_TIMER_INIT, 4, 1000, 0); /* 4 us a period */
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 2000), 500);
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 5000), 750);  /* reloaded at 4 us */
    unsigned got = 0;
    for (uint64_t t = 0; t <= 40 * US; t += 500) {
        vlapic_update(&l, t);
        if (vlapic_pending(&l) >= 0) { got++; vlapic_ack(&l); vlapic_write(&l, LAPIC_EOI, 4, 0, t); }
    }
    CHECK_EQ(got, 10);
    vlapic_write(&l, LAPIC_LVT_TIMER, 4, LVT_MASKED | LVT_TIMER_PERIODIC | 0x41, 40 * US);
    vlapic_update(&l, 100 * US);
    CHECK_EQ(vlapic_pending(&l), -1);               /* masked: counts on, no interrupt */
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 102 * US), 500);
    vlapic_write(&l, LAPIC_TIMER_INIT, 4, 0, 102 * US);        /* a zero count stops it */
    CHECK_EQ(vlapic_read(&l, LAPIC_TIMER_CUR, 4, 200 * US), 0);
}

TEST(vlapic_esr_write_then_read)
{
    vlapic_init(&l);
    CHECK_EQ(RD(0x040), 0);                         /* a reserved register */
    CHECK_EQ(RD(LAPIC_ESR), 0);                     /* not visible before the write */
    WR(LAPIC_ESR, 0);
    CHECK_EQ(RD(LAPIC_ESR), ESR_ILLEGAL_REGISTER);
    WR(LAPIC_ESR, 0);
    CHECK_EQ(RD(LAPIC_ESR), 0);                     /* the write cleared it */
    WR(LAPIC_ICR_LO, (ICR_SHORT_SELF << ICR_SHORT_SHIFT) | 0x05);   /* illegal vector */
    WR(LAPIC_ESR, 0);
    CHECK_EQ(RD(LAPIC_ESR), ESR_SEND_ILLEGAL_VECTOR | ESR_RECV_ILLEGAL_VECTOR);
    WR(LAPIC_LVT_ERROR, 0x5e);                      /* unmasked error LVT: an interrupt */
    CHECK_EQ(RD(0x3f0), 0);
    CHECK_EQ(vlapic_pending(&l), 0x5e);
}

TEST(vlapic_ipis_self_init_sipi_absent)
{
    vlapic_init(&l);
    WR(LAPIC_ICR_LO, (ICR_SHORT_SELF << ICR_SHORT_SHIFT) | 0x66);
    CHECK_EQ(vlapic_pending(&l), 0x66);
    CHECK_EQ(RD(LAPIC_ICR_LO) & ICR_BUSY, 0);
    vlapic_ack(&l); WR(LAPIC_EOI, 0);
    WR(LAPIC_ICR_HI, 0x00000000);                   /* physical ID 0: this CPU */
    WR(LAPIC_ICR_LO, 0x67);
    CHECK_EQ(vlapic_pending(&l), 0x67);
    vlapic_ack(&l); WR(LAPIC_EOI, 0);
    WR(LAPIC_ICR_HI, 0x05000000);                   /* nobody has ID 5 */
    WR(LAPIC_ICR_LO, ICR_ASSERT | (DM_INIT << LVT_DM_SHIFT));
    WR(LAPIC_ICR_LO, (DM_STARTUP << LVT_DM_SHIFT) | 0x9f);
    WR(LAPIC_ICR_LO, 0x68);
    CHECK_EQ(vlapic_pending(&l), -1);
    CHECK_EQ(l.ipis_dropped, 3);
    CHECK_EQ(RD(LAPIC_ICR_LO), 0x68);
    CHECK_EQ(RD(LAPIC_ICR_HI), 0x05000000);
    WR(LAPIC_ICR_LO, (ICR_SHORT_OTHERS << ICR_SHORT_SHIFT) | 0x69);
    CHECK_EQ(vlapic_pending(&l), -1);
    WR(LAPIC_LDR, 0x02000000);                      /* logical, flat model */
    WR(LAPIC_ICR_HI, 0x06000000);
    WR(LAPIC_ICR_LO, ICR_LOGICAL | 0x6a);
    CHECK_EQ(vlapic_pending(&l), 0x6a);
}

#define NMI_IPI (DM_NMI << LVT_DM_SHIFT)

TEST(vlapic_nmi_ipis)
{
    vlapic_init(&l);
    CHECK(!vlapic_take_nmi(&l));
    WR(LAPIC_ICR_HI, 0);
    WR(LAPIC_ICR_LO, NMI_IPI);                      /* physical, my ID; the vector is ignored */
    CHECK(vlapic_take_nmi(&l));
    CHECK(!vlapic_take_nmi(&l));
    CHECK_EQ(RD(LAPIC_ESR), 0);
    WR(LAPIC_ESR, 0);
    CHECK_EQ(RD(LAPIC_ESR), 0);                     /* vector 0 is no illegal vector for an NMI */
    CHECK_EQ(vlapic_pending(&l), -1);               /* nothing in the IRR */
    WR(LAPIC_ICR_LO, NMI_IPI | (ICR_SHORT_SELF << ICR_SHORT_SHIFT));
    CHECK(vlapic_take_nmi(&l));
    WR(LAPIC_ICR_LO, NMI_IPI | (ICR_SHORT_ALL << ICR_SHORT_SHIFT) | 0x22);
    CHECK(vlapic_take_nmi(&l));
    WR(LAPIC_ICR_LO, NMI_IPI | (ICR_SHORT_OTHERS << ICR_SHORT_SHIFT));
    CHECK(!vlapic_take_nmi(&l));                    /* nobody else */
    WR(LAPIC_ICR_HI, 0x03000000);
    WR(LAPIC_ICR_LO, NMI_IPI);
    CHECK(!vlapic_take_nmi(&l));
    CHECK_EQ(l.ipis_dropped, 2);
    WR(LAPIC_ID, 0x03000000);                       /* a new ID: now it is mine */
    WR(LAPIC_ICR_LO, NMI_IPI);
    CHECK(vlapic_take_nmi(&l));
    WR(LAPIC_LDR, 0x10000000);                      /* logical, flat: bit 4 */
    WR(LAPIC_ICR_HI, 0x20000000);
    WR(LAPIC_ICR_LO, NMI_IPI | ICR_LOGICAL);
    CHECK(!vlapic_take_nmi(&l));
    WR(LAPIC_ICR_HI, 0x30000000);
    WR(LAPIC_ICR_LO, NMI_IPI | ICR_LOGICAL);
    CHECK(vlapic_take_nmi(&l));
    /* Two before the CPU takes one are one; a software-disabled APIC takes NMIs too. */
    WR(LAPIC_SVR, 0xff);
    WR(LAPIC_ICR_LO, NMI_IPI | (ICR_SHORT_SELF << ICR_SHORT_SHIFT));
    WR(LAPIC_ICR_LO, NMI_IPI | (ICR_SHORT_SELF << ICR_SHORT_SHIFT));
    CHECK(vlapic_take_nmi(&l));
    CHECK(!vlapic_take_nmi(&l));
    CHECK_EQ(l.nmis, 7);
}

TEST(vlapic_lint0_nmi_on_rising_edges)
{
    vlapic_init(&l);
    CHECK(vlapic_lint0_open(&l));                   /* ExtINT: the 8259 passes, no NMI */
    CHECK(!vlapic_lint0_nmi(&l));
    vlapic_lint0(&l, true);
    CHECK(!vlapic_take_nmi(&l));
    vlapic_lint0(&l, false);
    WR(LAPIC_LVT_LINT0, LVT_LEVEL | NMI_IPI);       /* NMI mode: edge-triggered whatever bit 15 says */
    CHECK(!vlapic_lint0_open(&l));
    CHECK(vlapic_lint0_nmi(&l));
    vlapic_lint0(&l, true);
    CHECK(vlapic_take_nmi(&l));
    vlapic_lint0(&l, true);                         /* still high: no new edge */
    CHECK(!vlapic_take_nmi(&l));
    vlapic_lint0(&l, false);
    CHECK(!vlapic_take_nmi(&l));
    vlapic_lint0(&l, true);
    CHECK(vlapic_take_nmi(&l));
    vlapic_lint0(&l, false);
    WR(LAPIC_LVT_LINT0, LVT_MASKED | NMI_IPI);      /* an edge while masked is lost */
    CHECK(!vlapic_lint0_nmi(&l));
    vlapic_lint0(&l, true);
    WR(LAPIC_LVT_LINT0, NMI_IPI);                   /* unmasked while high: no edge */
    CHECK(!vlapic_take_nmi(&l));
    vlapic_lint0(&l, false);
    WR(LAPIC_SVR, 0xff);                            /* software-disabled: LINT0 masked */
    vlapic_lint0(&l, true);
    CHECK(!vlapic_take_nmi(&l));
    WR(LAPIC_LVT_LINT0, (DM_FIXED << LVT_DM_SHIFT) | 0x40);
    CHECK(!vlapic_lint0_open(&l));                  /* fixed mode is no virtual wire either */
}

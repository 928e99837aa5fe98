/* The virtual I/O APIC and the PC's interrupt wiring. */
#include "tests/unit/unit.h"
#include "supervisor/dev/irqwire.h"

static struct vlapic l;
static struct vioapic a;
static struct vpic pic;
static const struct irqwire w = { &pic, &a, &l };

static void eoi_cb(void *ctx, uint8_t v) { vioapic_eoi(ctx, v); }

static void setup(void)
{
    l.eoi_level = eoi_cb;
    l.eoi_ctx = &a;
    vlapic_init(&l);
    vioapic_init(&a, &l);
    vpic_init(&pic);
}

static uint32_t io_rd(unsigned r) { vioapic_write(&a, IOAPIC_REGSEL, 4, r); return vioapic_read(&a, IOAPIC_WIN, 4); }
static void io_wr(unsigned r, uint32_t v) { vioapic_write(&a, IOAPIC_REGSEL, 4, r); vioapic_write(&a, IOAPIC_WIN, 4, v); }

TEST(vioapic_id_version_table)
{
    setup();
    CHECK_EQ(io_rd(IOAPIC_REG_VER), 0x00170020);
    CHECK_EQ(io_rd(IOAPIC_REG_ID), 0);
    io_wr(IOAPIC_REG_ID, 0x0a000000);
    CHECK_EQ(io_rd(IOAPIC_REG_ID), 0x0a000000);
    CHECK_EQ(io_rd(IOAPIC_REG_ARB), 0x0a000000);
    io_wr(IOAPIC_REG_VER, 0);
    CHECK_EQ(io_rd(IOAPIC_REG_VER), 0x00170020);
    CHECK_EQ(io_rd(0x10 + 2 * 23), IORED_MASKED);
    io_wr(0x10 + 2 * 5, 0xffffffffu);               /* status and remote IRR stay clear */
    CHECK_EQ(io_rd(0x10 + 2 * 5), 0x1afff);
    io_wr(0x11 + 2 * 5, 0xffffffffu);
    CHECK_EQ(io_rd(0x11 + 2 * 5), 0xff000000u);
    CHECK_EQ(vioapic_read(&a, IOAPIC_REGSEL, 1), 0x11 + 2 * 5);
}

TEST(vioapic_edge_pin_routes_to_lapic)
{
    setup();
    io_wr(0x10 + 2 * 2, 0x30);                      /* pin 2, fixed, edge, physical dest 0 */
    irq_line(&w, 0, true);                          /* IRQ0 reaches pin 2 */
    CHECK_EQ(vlapic_pending(&l), 0x30);
    irq_line(&w, 0, false);
    CHECK_EQ(vlapic_ack(&l), 0x30);
    irq_line(&w, 0, true);                          /* no EOI yet: IRR again, same class waits */
    CHECK_EQ(vlapic_pending(&l), -1);
    vlapic_write(&l, LAPIC_EOI, 4, 0, 0);
    CHECK_EQ(vlapic_pending(&l), 0x30);
    CHECK_EQ(a.lo[0] & IORED_REMOTE_IRR, 0);
    CHECK_EQ(irq_to_pin(0), 2);
    CHECK_EQ(irq_to_pin(14), 14);
}

TEST(vioapic_masked_edge_is_lost_and_dest_checked)
{
    setup();
    io_wr(0x10 + 2 * 4, IORED_MASKED | 0x34);
    vioapic_set_irq(&a, 4, true);
    vioapic_set_irq(&a, 4, false);
    io_wr(0x10 + 2 * 4, 0x34);
    CHECK_EQ(vlapic_pending(&l), -1);
    io_wr(0x11 + 2 * 4, 0x07000000);                /* APIC ID 7: nobody */
    vioapic_set_irq(&a, 4, true);
    CHECK_EQ(vlapic_pending(&l), -1);
    CHECK_EQ(a.dropped, 1);
    vioapic_set_irq(&a, 4, false);
    io_wr(0x11 + 2 * 4, 0xff000000u);               /* broadcast */
    vioapic_set_irq(&a, 4, true);
    CHECK_EQ(vlapic_pending(&l), 0x34);
}

TEST(vioapic_level_remote_irr_cleared_by_eoi)
{
    setup();
    io_wr(0x10 + 2 * 4, IORED_LEVEL | 0x44);
    vioapic_set_irq(&a, 4, true);
    CHECK(io_rd(0x10 + 2 * 4) & IORED_REMOTE_IRR);
    CHECK_EQ(vlapic_ack(&l), 0x44);
    CHECK(vlapic_read(&l, LAPIC_TMR + 0x20, 4, 0) & (1u << 4));
    vlapic_write(&l, LAPIC_EOI, 4, 0, 0);           /* line still high: sent again */
    CHECK(io_rd(0x10 + 2 * 4) & IORED_REMOTE_IRR);
    CHECK_EQ(vlapic_ack(&l), 0x44);
    vioapic_set_irq(&a, 4, false);
    vlapic_write(&l, LAPIC_EOI, 4, 0, 0);
    CHECK_EQ(io_rd(0x10 + 2 * 4) & IORED_REMOTE_IRR, 0);
    CHECK_EQ(vlapic_pending(&l), -1);
    /* The EOI register of version 0x20 clears remote IRR by vector too. */
    vioapic_set_irq(&a, 4, true);
    CHECK(io_rd(0x10 + 2 * 4) & IORED_REMOTE_IRR);
    vioapic_set_irq(&a, 4, false);
    vioapic_write(&a, IOAPIC_EOIR, 4, 0x44);
    CHECK_EQ(io_rd(0x10 + 2 * 4) & IORED_REMOTE_IRR, 0);
}

TEST(irqwire_extint_before_lapic_and_lint0)
{
    setup();
    vpic_write(&pic, 0x20, 0x11); vpic_write(&pic, 0x21, 0x20);
    vpic_write(&pic, 0x21, 0x04); vpic_write(&pic, 0x21, 0x01);
    vpic_write(&pic, 0x21, 0xfe);                   /* IRQ0 only */
    io_wr(0x10 + 2 * 2, 0x38);
    irq_line(&w, 0, true);
    irq_line(&w, 0, false);
    CHECK(cpu_irq_pending(&w));
    CHECK_EQ(cpu_irq_ack(&w), 0x20);                /* ExtINT first: it bypasses the IRR */
    CHECK_EQ(cpu_irq_ack(&w), 0x38);                /* then the LAPIC */
    CHECK(!cpu_irq_pending(&w));
    vlapic_write(&l, LAPIC_EOI, 4, 0, 0);
    vpic_write(&pic, 0x20, 0x20);
    vlapic_write(&l, LAPIC_LVT_LINT0, 4, LVT_MASKED | 0x700, 0);
    irq_line(&w, 0, true);
    irq_line(&w, 0, false);
    CHECK_EQ(cpu_irq_ack(&w), 0x38);
    CHECK(!cpu_irq_pending(&w));                    /* the 8259 waits behind a masked LINT0 */
    CHECK(vpic_pending(&pic));
    /* Open again under a TPR that holds every class back: ExtINT is not held. */
    vlapic_write(&l, LAPIC_EOI, 4, 0, 0);
    vlapic_write(&l, LAPIC_TPR, 4, 0xf0, 0);
    vlapic_write(&l, LAPIC_LVT_LINT0, 4, 0x700, 0);
    CHECK(cpu_irq_pending(&w));
    CHECK_EQ(cpu_irq_ack(&w), 0x20);
}

TEST(vioapic_nmi_entry)
{
    setup();
    CHECK(!vioapic_nmi_armed(&a));
    io_wr(0x10 + 2 * 2, IORED_MASKED | (DM_NMI << LVT_DM_SHIFT));
    CHECK(!vioapic_nmi_armed(&a));
    irq_line(&w, 0, true);                          /* masked: the edge is lost */
    irq_line(&w, 0, false);
    CHECK(!vlapic_take_nmi(&l));
    io_wr(0x10 + 2 * 2, DM_NMI << LVT_DM_SHIFT);    /* vector 0: not used for an NMI */
    CHECK(vioapic_nmi_armed(&a));
    irq_line(&w, 0, true);
    CHECK(vlapic_take_nmi(&l));
    CHECK_EQ(vlapic_pending(&l), -1);
    CHECK_EQ(vlapic_read(&l, LAPIC_ESR, 4, 0), 0);
    irq_line(&w, 0, true);                          /* no new edge */
    CHECK(!vlapic_take_nmi(&l));
    irq_line(&w, 0, false);
    irq_line(&w, 0, true);
    CHECK(vlapic_take_nmi(&l));
    irq_line(&w, 0, false);
    io_wr(0x11 + 2 * 2, 0x04000000);                /* APIC ID 4: nobody */
    CHECK(!vioapic_nmi_armed(&a));
    irq_line(&w, 0, true);
    CHECK(!vlapic_take_nmi(&l));
    CHECK_EQ(a.dropped, 1);
    CHECK_EQ(a.delivered, 2);
    CHECK(!cpu_nmi_armed(&w));
    /* SMI, INIT and ExtINT entries send nothing. */
    io_wr(0x11 + 2 * 5, 0);
    io_wr(0x10 + 2 * 5, DM_SMI << LVT_DM_SHIFT);
    vioapic_set_irq(&a, 5, true);
    CHECK(!vlapic_take_nmi(&l));
    CHECK_EQ(vlapic_pending(&l), -1);
}

TEST(irqwire_lint0_nmi_from_8259)
{
    setup();
    vpic_write(&pic, 0x20, 0x11); vpic_write(&pic, 0x21, 0x20);
    vpic_write(&pic, 0x21, 0x04); vpic_write(&pic, 0x21, 0x01);
    vpic_write(&pic, 0x21, 0xfe);                   /* IRQ0 only */
    vlapic_write(&l, LAPIC_LVT_LINT0, 4, DM_NMI << LVT_DM_SHIFT, 0);
    CHECK(cpu_nmi_armed(&w));
    irq_line(&w, 0, true);                          /* INT rises: an NMI, no interrupt */
    CHECK(vlapic_take_nmi(&l));
    CHECK(!cpu_irq_pending(&w));
    irq_line(&w, 0, false);
    irq_line(&w, 0, true);                          /* IRR still set: INT stays high */
    CHECK(!vlapic_take_nmi(&l));
    /* A mask and unmask at the 8259 drops INT and raises it again: another edge. */
    vpic_write(&pic, 0x21, 0xff);
    irq_lint0_sync(&w);
    vpic_write(&pic, 0x21, 0xfe);
    irq_lint0_sync(&w);
    CHECK(vlapic_take_nmi(&l));
    /* Back to ExtINT: the waiting request is an interrupt again. */
    vlapic_write(&l, LAPIC_LVT_LINT0, 4, DM_EXTINT << LVT_DM_SHIFT, 0);
    CHECK(!cpu_nmi_armed(&w));
    CHECK(cpu_irq_pending(&w));
    CHECK_EQ(cpu_irq_ack(&w), 0x20);
}

/* The virtual 8259A pair: initialisation, masks, priority, EOI forms, cascade, poll, ELCR. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vpic.h"

static struct vpic p;

/* The sequence a PC kernel uses: ICW1-4 on both chips, then masks. */
static void init_pc(uint8_t mbase, uint8_t sbase, bool aeoi)
{
    vpic_init(&p);
    vpic_write(&p, 0x20, 0x11); vpic_write(&p, 0x21, mbase); vpic_write(&p, 0x21, 4); vpic_write(&p, 0x21, aeoi ? 3 : 1);
    vpic_write(&p, 0xa0, 0x11); vpic_write(&p, 0xa1, sbase); vpic_write(&p, 0xa1, 2); vpic_write(&p, 0xa1, aeoi ? 3 : 1);
    vpic_write(&p, 0x21, 0x00);
    vpic_write(&p, 0xa1, 0x00);
}

TEST(vpic_power_on_masked)
{
    vpic_init(&p);
    vpic_set_irq(&p, 0, true);
    CHECK(!vpic_pending(&p));
    CHECK_EQ(vpic_read(&p, 0x21), 0xff);
}

TEST(vpic_icw_then_mask_then_eoi)
{
    init_pc(0x20, 0x28, false);
    vpic_write(&p, 0x21, 0xfe);                 /* only IRQ0 */
    vpic_set_irq(&p, 1, true);
    CHECK(!vpic_pending(&p));                   /* masked */
    vpic_set_irq(&p, 0, true);
    CHECK(vpic_pending(&p));
    CHECK_EQ(vpic_ack(&p), 0x20);
    CHECK(!vpic_pending(&p));                   /* edge consumed */
    vpic_write(&p, 0x20, 0x0b);                 /* OCW3: read ISR */
    CHECK_EQ(vpic_read(&p, 0x20), 0x01);
    vpic_set_irq(&p, 0, false);
    vpic_set_irq(&p, 0, true);                  /* a new edge while in service */
    CHECK(!vpic_pending(&p));                   /* same priority still in service */
    vpic_write(&p, 0x20, 0x20);                 /* non-specific EOI */
    CHECK_EQ(vpic_read(&p, 0x20), 0x00);
    CHECK(vpic_pending(&p));
    vpic_write(&p, 0x20, 0x0a);                 /* OCW3: read IRR */
    CHECK_EQ(vpic_read(&p, 0x20), 0x03);        /* masked IRQ1 is requested all the same */
}

TEST(vpic_priority_and_nesting)
{
    init_pc(0x20, 0x28, false);
    vpic_set_irq(&p, 4, true);
    vpic_set_irq(&p, 1, true);
    CHECK_EQ(vpic_ack(&p), 0x21);               /* IRQ1 before IRQ4 */
    CHECK(!vpic_pending(&p));                   /* IRQ4 waits behind IRQ1 in service */
    vpic_set_irq(&p, 0, true);
    CHECK(vpic_pending(&p));                    /* IRQ0 preempts */
    CHECK_EQ(vpic_ack(&p), 0x20);
    vpic_write(&p, 0x20, 0x60);                 /* specific EOI for IR0 */
    vpic_write(&p, 0x20, 0x61);                 /* specific EOI for IR1 */
    CHECK_EQ(vpic_ack(&p), 0x24);
}

TEST(vpic_cascade_and_spurious)
{
    init_pc(0x20, 0x70, false);
    vpic_set_irq(&p, 12, true);
    CHECK(vpic_pending(&p));
    CHECK_EQ(vpic_ack(&p), 0x74);
    vpic_write(&p, 0xa0, 0x0b);
    CHECK_EQ(vpic_read(&p, 0xa0), 0x10);
    vpic_write(&p, 0x20, 0x0b);
    CHECK_EQ(vpic_read(&p, 0x20), 0x04);        /* the cascade line in service on the master */
    /* An acknowledge with nothing pending gives the master's IR7: spurious. */
    CHECK_EQ(vpic_ack(&p), 0x27);
    CHECK_EQ(p.spurious, 1);
}

TEST(vpic_auto_eoi_and_poll)
{
    init_pc(0x08, 0x70, true);
    vpic_set_irq(&p, 3, true);
    CHECK_EQ(vpic_ack(&p), 0x0b);
    vpic_write(&p, 0x20, 0x0b);
    CHECK_EQ(vpic_read(&p, 0x20), 0x00);        /* auto-EOI: nothing in service */
    init_pc(0x20, 0x28, false);
    vpic_set_irq(&p, 5, true);
    vpic_write(&p, 0x20, 0x0c);                 /* OCW3: poll */
    CHECK_EQ(vpic_read(&p, 0x20), 0x85);
    vpic_write(&p, 0x20, 0x0c);
    CHECK_EQ(vpic_read(&p, 0x20), 0x00);        /* nothing more */
}

TEST(vpic_level_lines_follow_elcr)
{
    init_pc(0x20, 0x28, false);
    vpic_write(&p, 0x4d1, 0xff);
    CHECK_EQ(vpic_read(&p, 0x4d1), 0xde);       /* IRQ8 and IRQ13 stay edge */
    vpic_set_irq(&p, 11, true);
    CHECK_EQ(vpic_ack(&p), 0x2b);
    vpic_write(&p, 0xa0, 0x20); vpic_write(&p, 0x20, 0x20);
    CHECK(vpic_pending(&p));                    /* still asserted: level-triggered */
    vpic_set_irq(&p, 11, false);
    CHECK(!vpic_pending(&p));
}

TEST(vpic_rotation)
{
    init_pc(0x20, 0x28, false);
    vpic_set_irq(&p, 0, true);
    vpic_set_irq(&p, 3, true);
    CHECK_EQ(vpic_ack(&p), 0x20);
    vpic_write(&p, 0x20, 0xa0);                 /* rotate on non-specific EOI: IR0 now lowest */
    vpic_set_irq(&p, 0, false);
    vpic_set_irq(&p, 0, true);
    CHECK_EQ(vpic_ack(&p), 0x23);               /* IR3 beats IR0 now */
}

TEST(vpic_single_mode_and_poll_at_the_data_port)
{
    vpic_init(&p);
    vpic_write(&p, 0xa0, 0x13);                 /* ICW1: edge, single, ICW4 */
    vpic_write(&p, 0xa1, 0x28);                 /* ICW2 */
    vpic_write(&p, 0xa1, 0x01);                 /* ICW4 (no ICW3 in single mode) */
    vpic_write(&p, 0xa1, 0xab);                 /* OCW1 */
    CHECK_EQ(vpic_read(&p, 0xa1), 0xab);
    vpic_write(&p, 0x20, 0x11); vpic_write(&p, 0x21, 0x20); vpic_write(&p, 0x21, 0x04);
    vpic_write(&p, 0x21, 0x01); vpic_write(&p, 0x21, 0xfe);
    vpic_set_irq(&p, 0, true);
    vpic_write(&p, 0x20, 0x0c);                 /* poll, then read the data port */
    CHECK_EQ(vpic_read(&p, 0x21), 0x80);
    vpic_write(&p, 0x20, 0x0b);
    CHECK_EQ(vpic_read(&p, 0x20), 0x01);        /* IRQ0 in service */
    CHECK_EQ(vpic_read(&p, 0x21), 0xfe);        /* and the data port is the mask again */
}

TEST(vpic_special_fully_nested)
{
    for (int sfnm = 0; sfnm < 2; sfnm++) {
        vpic_init(&p);
        vpic_write(&p, 0x20, 0x11); vpic_write(&p, 0x21, 0x20); vpic_write(&p, 0x21, 4);
        vpic_write(&p, 0x21, sfnm ? 0x11 : 0x01);
        vpic_write(&p, 0xa0, 0x11); vpic_write(&p, 0xa1, 0x28); vpic_write(&p, 0xa1, 2); vpic_write(&p, 0xa1, 1);
        vpic_write(&p, 0x21, 0xfb);
        vpic_write(&p, 0xa1, 0xee);
        vpic_set_irq(&p, 12, true);
        CHECK_EQ(vpic_ack(&p), 0x2c);               /* IRQ12: master IR2, slave IR4 in service */
        vpic_set_irq(&p, 8, true);                  /* higher on the slave */
        CHECK_EQ(vpic_pending(&p), sfnm != 0);      /* through the in-service cascade only in SFNM */
        if (sfnm) CHECK_EQ(vpic_ack(&p), 0x28);
    }
}

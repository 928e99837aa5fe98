/* The virtual i8042: status bits, self and interface tests, the command byte, port enables,
 * the output port and resets, keyboard command replies, IRQ1/IRQ12, no key ever pressed. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vkbd.h"

static uint8_t st(struct vkbd *k) { return vkbd_read(k, VKBD_STATUS); }
static uint8_t data(struct vkbd *k) { return vkbd_read(k, VKBD_DATA); }
static void cmd(struct vkbd *k, uint8_t c) { vkbd_write(k, VKBD_STATUS, c); }
static void out(struct vkbd *k, uint8_t v) { vkbd_write(k, VKBD_DATA, v); }

TEST(vkbd_controller_commands)
{
    struct vkbd k;
    vkbd_init(&k);
    CHECK_EQ(st(&k) & (KBD_ST_OBF | KBD_ST_IBF | KBD_ST_SYS), KBD_ST_SYS);   /* nothing typed */
    cmd(&k, KBD_CCMD_SELF_TEST);
    CHECK_EQ(st(&k) & (KBD_ST_OBF | KBD_ST_CMD | KBD_ST_AUX), KBD_ST_OBF | KBD_ST_CMD);
    CHECK_EQ(data(&k), 0x55);
    CHECK_EQ(st(&k) & KBD_ST_OBF, 0);
    CHECK_EQ(data(&k), 0x55);                        /* an empty buffer reads its last byte */
    cmd(&k, KBD_CCMD_KBD_TEST); CHECK_EQ(data(&k), 0x00);
    cmd(&k, KBD_CCMD_AUX_TEST); CHECK_EQ(data(&k), 0x02);
    cmd(&k, KBD_CCMD_READ_CB); CHECK_EQ(data(&k), KBD_CB_IRQ1 | KBD_CB_NO_AUX | KBD_CB_XLATE);
    CHECK_EQ(st(&k) & KBD_ST_SYS, KBD_ST_SYS);     /* set by the firmware's self test */
    cmd(&k, KBD_CCMD_WRITE_CB); out(&k, 0x00);
    CHECK_EQ(st(&k) & (KBD_ST_SYS | KBD_ST_CMD), 0);   /* SYS follows the command byte */
    cmd(&k, KBD_CCMD_READ_CB); CHECK_EQ(data(&k), 0x00);
    cmd(&k, KBD_CCMD_KBD_OFF); cmd(&k, KBD_CCMD_AUX_OFF);
    cmd(&k, KBD_CCMD_READ_CB); CHECK_EQ(data(&k), KBD_CB_NO_KBD | KBD_CB_NO_AUX);
    cmd(&k, KBD_CCMD_KBD_ON); cmd(&k, KBD_CCMD_AUX_ON);
    cmd(&k, KBD_CCMD_READ_CB); CHECK_EQ(data(&k), 0x00);
    cmd(&k, KBD_CCMD_READ_OUT); CHECK_EQ(data(&k), 0xcc | KBD_OP_RESET | KBD_OP_A20);
    cmd(&k, KBD_CCMD_WRITE_KBD_OBUF); out(&k, 0x5a);
    CHECK_EQ(st(&k) & (KBD_ST_OBF | KBD_ST_AUX), KBD_ST_OBF);
    CHECK_EQ(data(&k), 0x5a);
    cmd(&k, KBD_CCMD_WRITE_AUX_OBUF); out(&k, 0x33);
    CHECK_EQ(st(&k) & (KBD_ST_OBF | KBD_ST_AUX), KBD_ST_OBF | KBD_ST_AUX);
    CHECK_EQ(data(&k), 0x33);
    cmd(&k, KBD_CCMD_WRITE_AUX); out(&k, 0xf4);    /* to a mouse that is not there */
    CHECK_EQ(st(&k) & KBD_ST_AUX, KBD_ST_AUX);
    CHECK_EQ(data(&k), 0xfe);
    CHECK(!k.reset);
}

TEST(vkbd_keyboard_replies)
{
    struct vkbd k;
    vkbd_init(&k);
    out(&k, 0xee); CHECK_EQ(data(&k), 0xee);
    CHECK_EQ(st(&k) & KBD_ST_CMD, 0);
    out(&k, 0xff); CHECK_EQ(data(&k), 0xfa); CHECK_EQ(data(&k), 0xaa);
    out(&k, 0xf2); CHECK_EQ(data(&k), 0xfa); CHECK_EQ(data(&k), 0xab); CHECK_EQ(data(&k), 0x41);
    out(&k, 0xed); CHECK_EQ(data(&k), 0xfa);
    out(&k, 0x07); CHECK_EQ(data(&k), 0xfa);         /* the LED argument, not a command */
    out(&k, 0xf0); out(&k, 0x00);
    CHECK_EQ(data(&k), 0xfa); CHECK_EQ(data(&k), 0xfa); CHECK_EQ(data(&k), 0x41);
    out(&k, 0x12); CHECK_EQ(data(&k), 0xfe);         /* not a command: resend */
    cmd(&k, KBD_CCMD_WRITE_CB); out(&k, KBD_CB_SYS);
    out(&k, 0xf2); data(&k); data(&k); CHECK_EQ(data(&k), 0x83);   /* untranslated id */
    cmd(&k, KBD_CCMD_KBD_OFF);
    out(&k, 0xf4);                                   /* writing to the keyboard enables its port */
    cmd(&k, KBD_CCMD_READ_CB);
    CHECK_EQ(data(&k), 0xfa);
    CHECK_EQ(data(&k), KBD_CB_SYS);
    CHECK_EQ(st(&k) & KBD_ST_OBF, 0);
}

TEST(vkbd_irqs)
{
    struct vkbd k;
    vkbd_init(&k);
    CHECK(!vkbd_irq1(&k) && !vkbd_irq12(&k));
    out(&k, 0xee);
    CHECK(vkbd_irq1(&k));
    data(&k);
    CHECK(!vkbd_irq1(&k));
    cmd(&k, KBD_CCMD_WRITE_CB); out(&k, KBD_CB_SYS);    /* interrupts off */
    out(&k, 0xee);
    CHECK(!vkbd_irq1(&k));
    data(&k);
    cmd(&k, KBD_CCMD_WRITE_CB); out(&k, KBD_CB_IRQ12);
    cmd(&k, KBD_CCMD_WRITE_AUX_OBUF); out(&k, 1);
    CHECK(vkbd_irq12(&k) && !vkbd_irq1(&k));
    data(&k);
    CHECK(!vkbd_irq12(&k));
}

TEST(vkbd_reset_line)
{
    struct vkbd k;
    vkbd_init(&k);
    cmd(&k, 0xff);                                   /* pulses nothing */
    CHECK(!k.reset);
    cmd(&k, KBD_CCMD_PULSE_RESET);
    CHECK(k.reset);
    vkbd_init(&k);
    cmd(&k, KBD_CCMD_WRITE_OUT); out(&k, 0x03);
    CHECK(!k.reset);
    cmd(&k, KBD_CCMD_WRITE_OUT); out(&k, 0x02);
    CHECK(k.reset);
}

/* The virtual i8042 keyboard controller with a keyboard on which no key is ever pressed. */
#ifndef SUPERVISOR_DEV_VKBD_H
#define SUPERVISOR_DEV_VKBD_H
#include <stdbool.h>
#include <stdint.h>

#define VKBD_DATA   0x60
#define VKBD_STATUS 0x64         /* read: status; write: controller command */
#define VKBD_IRQ    1

#define KBD_ST_OBF  0x01         /* output buffer full */
#define KBD_ST_IBF  0x02         /* input buffer full (never: commands run at once) */
#define KBD_ST_SYS  0x04         /* system flag: POST passed */
#define KBD_ST_CMD  0x08         /* the last write went to port 0x64 */
#define KBD_ST_UNLOCKED 0x10     /* the keyboard lock switch is off */
#define KBD_ST_AUX  0x20         /* the output buffer holds a byte from the mouse port */

#define KBD_CB_IRQ1     0x01     /* command byte: interrupt on keyboard data */
#define KBD_CB_IRQ12    0x02
#define KBD_CB_SYS      0x04
#define KBD_CB_NO_KBD   0x10     /* keyboard port disabled */
#define KBD_CB_NO_AUX   0x20
#define KBD_CB_XLATE    0x40     /* translate to scan code set 1 */

#define KBD_OP_RESET 0x01        /* output port: 0 holds the CPU in reset */
#define KBD_OP_A20   0x02

enum kbd_ccmd {
    KBD_CCMD_READ_CB = 0x20, KBD_CCMD_WRITE_CB = 0x60, KBD_CCMD_AUX_OFF = 0xa7, KBD_CCMD_AUX_ON = 0xa8,
    KBD_CCMD_AUX_TEST = 0xa9, KBD_CCMD_SELF_TEST = 0xaa, KBD_CCMD_KBD_TEST = 0xab, KBD_CCMD_KBD_OFF = 0xad,
    KBD_CCMD_KBD_ON = 0xae, KBD_CCMD_READ_IN = 0xc0, KBD_CCMD_READ_OUT = 0xd0, KBD_CCMD_WRITE_OUT = 0xd1,
    KBD_CCMD_WRITE_KBD_OBUF = 0xd2, KBD_CCMD_WRITE_AUX_OBUF = 0xd3, KBD_CCMD_WRITE_AUX = 0xd4,
    KBD_CCMD_PULSE_RESET = 0xfe,
};

#define VKBD_QUEUE 16

struct vkbd {
    uint8_t cb;                  /* the command byte */
    uint8_t outport;
    uint8_t status_cmd;          /* KBD_ST_CMD when the last write was a command */
    uint8_t pending;             /* a controller command waiting for its data byte, or 0 */
    uint8_t kbd_pending;         /* a keyboard command waiting for its argument, or 0 */
    uint8_t q[VKBD_QUEUE];       /* bytes for the output buffer, oldest first */
    bool q_aux[VKBD_QUEUE];      /* ...and whether each came from the mouse port */
    unsigned q_head, q_count;
    uint8_t last;                /* what port 0x60 read last (read again when empty) */
    bool sys;                    /* the status register's system flag */
    bool reset;                  /* the guest pulsed the CPU's reset line */
};

/* The state a BIOS leaves: self-tested, keyboard interrupt on, translation on. */
void vkbd_init(struct vkbd *k);
/* Port read (0x60 or 0x64). */
uint8_t vkbd_read(struct vkbd *k, uint16_t port);
/* Port write (0x60 or 0x64). */
void vkbd_write(struct vkbd *k, uint16_t port, uint8_t v);
/* IRQ1 and IRQ12 levels: a byte waits in the output buffer and its interrupt is enabled. */
bool vkbd_irq1(const struct vkbd *k);
bool vkbd_irq12(const struct vkbd *k);

#endif

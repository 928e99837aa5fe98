/* The virtual i8042 and its keyboard. Nothing is ever typed: the output buffer holds only
 * what the guest asked for (controller command results, keyboard command replies, bytes
 * written with 0xd2/0xd3), queued in order as the keyboard would send them. There is no
 * mouse: a byte sent to it (0xd4) is answered with 0xfe from the mouse port, and the mouse
 * port test reports its clock line stuck low (0x02). Commands run at once, so IBF is never
 * seen set. A pulse of output-port bit 0 (command 0xfe, or 0xd1 with bit 0 clear)
 * resets the CPU: the model only records it; the VM decides what a reset means. */
#include "supervisor/dev/vkbd.h"
#include "lib/string.h"

void vkbd_init(struct vkbd *k)
{
    memset(k, 0, sizeof *k);
    /* As SeaBIOS leaves it under QEMU: the command byte it wrote (keyboard interrupt and
     * translation on, the mouse port off), the system flag still set from the controller's
     * self test although that byte's bit 2 is clear, its last write a command (status bit
     * 3), the last byte it read the keyboard's acknowledgement (an empty buffer reads it
     * again), and the output port with the keyboard's clock and data lines high. */
    k->cb = KBD_CB_IRQ1 | KBD_CB_NO_AUX | KBD_CB_XLATE;
    k->sys = true;
    k->outport = KBD_OP_RESET | KBD_OP_A20 | 0xcc;
    k->status_cmd = KBD_ST_CMD;
    k->last = 0xfa;
}

/* Queue a byte for the output buffer (dropped when 16 wait: the guest is not reading). */
static void put(struct vkbd *k, uint8_t b, bool aux)
{
    if (k->q_count == VKBD_QUEUE) return;
    unsigned at = (k->q_head + k->q_count++) % VKBD_QUEUE;
    k->q[at] = b;
    k->q_aux[at] = aux;
}

/* The keyboard's answer to a byte written to port 0x60 outside a controller command. */
static void keyboard(struct vkbd *k, uint8_t v)
{
    if (k->kbd_pending) {                 /* the argument of 0xed, 0xf3 or 0xf0 */
        uint8_t cmd = k->kbd_pending;
        k->kbd_pending = 0;
        put(k, 0xfa, false);
        if (cmd == 0xf0 && v == 0) put(k, (k->cb & KBD_CB_XLATE) ? 0x41 : 0x02, false);   /* set 2 */
        return;
    }
    switch (v) {
    case 0xee: put(k, 0xee, false); break;                       /* echo */
    case 0xed: case 0xf3: case 0xf0: put(k, 0xfa, false); k->kbd_pending = v; break;
    case 0xf2:                                                   /* identify: an MF2 keyboard */
        put(k, 0xfa, false); put(k, 0xab, false);
        put(k, (k->cb & KBD_CB_XLATE) ? 0x41 : 0x83, false);
        break;
    case 0xf4: case 0xf5: case 0xf6: case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb:
        put(k, 0xfa, false);
        break;
    case 0xff: put(k, 0xfa, false); put(k, 0xaa, false); break;   /* reset and self-test passed */
    default: put(k, 0xfe, false); break;                         /* resend: not a command */
    }
}

/* The data byte of a controller command that takes one. */
static void command_data(struct vkbd *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case KBD_CCMD_WRITE_CB: k->cb = v; k->sys = v & KBD_CB_SYS; break;    /* the 8042 copies bit 2 */
    case KBD_CCMD_WRITE_OUT:
        k->outport = v | KBD_OP_A20;               /* A20 stays on: umbra has no wrap-around */
        if (!(v & KBD_OP_RESET)) k->reset = true;
        break;
    case KBD_CCMD_WRITE_KBD_OBUF: put(k, v, false); break;
    case KBD_CCMD_WRITE_AUX_OBUF: put(k, v, true); break;
    case KBD_CCMD_WRITE_AUX: put(k, 0xfe, true); break;          /* no mouse */
    default: break;
    }
}

/* A controller command written to port 0x64. */
static void command(struct vkbd *k, uint8_t c)
{
    switch (c) {
    case KBD_CCMD_READ_CB: put(k, k->cb, false); break;
    case KBD_CCMD_WRITE_CB: case KBD_CCMD_WRITE_OUT: case KBD_CCMD_WRITE_KBD_OBUF:
    case KBD_CCMD_WRITE_AUX_OBUF: case KBD_CCMD_WRITE_AUX:
        k->pending = c;
        break;
    case KBD_CCMD_AUX_OFF: k->cb |= KBD_CB_NO_AUX; break;
    case KBD_CCMD_AUX_ON: k->cb &= (uint8_t)~KBD_CB_NO_AUX; break;
    case KBD_CCMD_AUX_TEST: put(k, 0x02, false); break;          /* no mouse: clock line stuck low */
    case KBD_CCMD_SELF_TEST: put(k, 0x55, false); k->sys = true; break;
    case KBD_CCMD_KBD_TEST: put(k, 0x00, false); break;
    case KBD_CCMD_KBD_OFF: k->cb |= KBD_CB_NO_KBD; break;
    case KBD_CCMD_KBD_ON: k->cb &= (uint8_t)~KBD_CB_NO_KBD; break;
    case KBD_CCMD_READ_IN: put(k, 0x80, false); break;           /* keyboard not locked */
    case KBD_CCMD_READ_OUT: {
        uint8_t obf = k->q_count ? (k->q_aux[k->q_head] ? 0x20 : 0x10) : 0;
        put(k, (uint8_t)((k->outport & 0xcf) | obf), false);
        break;
    }
    default:
        /* 0xf0-0xff pulse output-port bits 0-3 low for 6 us where the command's bit is 0. */
        if (c >= 0xf0 && !(c & KBD_OP_RESET)) k->reset = true;
        break;
    }
}

uint8_t vkbd_read(struct vkbd *k, uint16_t port)
{
    if (port == VKBD_STATUS) {
        uint8_t st = (uint8_t)(KBD_ST_UNLOCKED | k->status_cmd | (k->sys ? KBD_ST_SYS : 0));
        if (k->q_count) st |= KBD_ST_OBF | (k->q_aux[k->q_head] ? KBD_ST_AUX : 0);
        return st;
    }
    if (k->q_count) {
        k->last = k->q[k->q_head];
        k->q_head = (k->q_head + 1) % VKBD_QUEUE;
        k->q_count--;
    }
    return k->last;
}

void vkbd_write(struct vkbd *k, uint16_t port, uint8_t v)
{
    if (port == VKBD_STATUS) {
        k->status_cmd = KBD_ST_CMD;
        k->pending = 0;
        command(k, v);
        return;
    }
    k->status_cmd = 0;
    if (k->pending) {
        uint8_t c = k->pending;
        k->pending = 0;
        command_data(k, c, v);
        return;
    }
    k->cb &= (uint8_t)~KBD_CB_NO_KBD;     /* writing to the keyboard enables its port */
    keyboard(k, v);
}

bool vkbd_irq1(const struct vkbd *k)
{
    return k->q_count && !k->q_aux[k->q_head] && (k->cb & KBD_CB_IRQ1);
}

bool vkbd_irq12(const struct vkbd *k)
{
    return k->q_count && k->q_aux[k->q_head] && (k->cb & KBD_CB_IRQ12);
}

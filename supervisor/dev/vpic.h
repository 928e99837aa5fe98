/* The virtual 8259A pair, wired as on a PC: slave on the master's IR2, ELCR at 0x4d0. */
#ifndef SUPERVISOR_DEV_VPIC_H
#define SUPERVISOR_DEV_VPIC_H
#include <stdbool.h>
#include <stdint.h>

#define VPIC_MASTER_CMD  0x20
#define VPIC_MASTER_DATA 0x21
#define VPIC_SLAVE_CMD   0xa0
#define VPIC_SLAVE_DATA  0xa1
#define VPIC_ELCR0       0x4d0
#define VPIC_ELCR1       0x4d1
#define VPIC_CASCADE     2

struct vpic_chip {
    uint8_t irr, isr, imr;
    uint8_t base;            /* ICW2: vector of IR0 */
    uint8_t init_step;       /* 0: ready; 2, 3, 4: expecting that ICW */
    bool icw4, single, auto_eoi, rotate_aeoi, read_isr, poll, special_mask;   /* single: ICW1 SNGL, no ICW3 */
    bool sfnm;               /* ICW4 bit 4, special fully nested mode (used on the master) */
    bool master;
    uint8_t lowest;          /* the IR with the lowest priority (7 unless rotated) */
    uint8_t elcr;            /* level-triggered lines */
    uint8_t lines;           /* current input levels */
};

struct vpic {
    struct vpic_chip chip[2];  /* 0 master, 1 slave */
    uint32_t spurious, bad_writes;
};

/* Power-on state: everything masked until the guest initialises it. */
void vpic_init(struct vpic *p);
/* Drive input line irq (0-15) to level; an edge-triggered line latches on the rising edge. */
void vpic_set_irq(struct vpic *p, unsigned irq, bool level);
/* Does the master's INT output ask the CPU for an interrupt? */
bool vpic_pending(const struct vpic *p);
/* The interrupt-acknowledge cycle: the vector the CPU gets (spurious IR7/IR15 if none). */
uint8_t vpic_ack(struct vpic *p);
/* Port access (0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1). */
uint8_t vpic_read(struct vpic *p, uint16_t port);
void vpic_write(struct vpic *p, uint16_t port, uint8_t v);

#endif

/* The virtual 8259A pair: initialisation words, masks, priorities, EOI forms, poll, ELCR. */
#include "supervisor/dev/vpic.h"
#include "lib/string.h"

void vpic_init(struct vpic *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 2; i++) {
        p->chip[i].imr = 0xff;
        p->chip[i].lowest = 7;
    }
    p->chip[0].master = true;
}

/* Priority rank of IR n on chip c: 0 is the highest. */
static unsigned rank(const struct vpic_chip *c, unsigned n) { return (n - c->lowest - 1) & 7; }

/* The highest-priority IR set in bits, or -1. */
static int highest(const struct vpic_chip *c, uint8_t bits)
{
    int best = -1;
    for (unsigned n = 0; n < 8; n++)
        if ((bits & (1u << n)) && (best < 0 || rank(c, n) < rank(c, (unsigned)best))) best = (int)n;
    return best;
}

/* The IR chip c would raise its output for now, or -1 (fully nested mode; in special fully
 * nested mode the master lets the cascade through while it is in service, for a request of
 * higher priority on the slave). */
static int chip_request(const struct vpic_chip *c, uint8_t irr)
{
    int req = highest(c, irr & ~c->imr);
    if (req < 0) return -1;
    uint8_t in_service = c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
    if (c->master && c->sfnm) in_service &= (uint8_t)~(1u << VPIC_CASCADE);
    int cur = highest(c, in_service);
    if (cur >= 0 && rank(c, (unsigned)cur) <= rank(c, (unsigned)req)) return -1;
    return req;
}

/* The master's IRR as its inputs see it: IR2 follows the slave's output. */
static uint8_t master_irr(const struct vpic *p)
{
    uint8_t irr = p->chip[0].irr;
    if (chip_request(&p->chip[1], p->chip[1].irr) >= 0) irr |= 1u << VPIC_CASCADE;
    return irr;
}

bool vpic_pending(const struct vpic *p)
{
    return chip_request(&p->chip[0], master_irr(p)) >= 0;
}

void vpic_set_irq(struct vpic *p, unsigned irq, bool level)
{
    if (irq > 15) return;
    struct vpic_chip *c = &p->chip[irq >> 3];
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    bool was = c->lines & bit;
    if (level) c->lines |= bit; else c->lines &= (uint8_t)~bit;
    if (c->elcr & bit) {
        if (level) c->irr |= bit; else c->irr &= (uint8_t)~bit;
    } else if (level && !was) {
        c->irr |= bit;
    }
}

/* Acknowledge on one chip: IRR to ISR (unless auto-EOI); returns the IR. */
static void chip_ack(struct vpic_chip *c, unsigned n)
{
    uint8_t bit = (uint8_t)(1u << n);
    if (!(c->elcr & bit)) c->irr &= (uint8_t)~bit;
    if (c->auto_eoi) {
        if (c->rotate_aeoi) c->lowest = (uint8_t)n;
    } else {
        c->isr |= bit;
    }
}

uint8_t vpic_ack(struct vpic *p)
{
    struct vpic_chip *m = &p->chip[0], *s = &p->chip[1];
    int n = chip_request(m, master_irr(p));
    if (n < 0) { p->spurious++; return (uint8_t)(m->base | 7); }
    if (n != VPIC_CASCADE) {
        chip_ack(m, (unsigned)n);
        return (uint8_t)(m->base | (unsigned)n);
    }
    int sn = chip_request(s, s->irr);
    chip_ack(m, VPIC_CASCADE);
    if (sn < 0) { p->spurious++; return (uint8_t)(s->base | 7); }
    chip_ack(s, (unsigned)sn);
    return (uint8_t)(s->base | (unsigned)sn);
}

/* OCW2: the EOI and rotation commands. */
static void ocw2(struct vpic_chip *c, uint8_t v)
{
    unsigned cmd = v >> 5, level = v & 7;
    int n;
    switch (cmd) {
    case 1: case 5:                          /* non-specific EOI (and rotate) */
        n = highest(c, c->isr);
        if (n >= 0) {
            c->isr &= (uint8_t)~(1u << n);
            if (cmd == 5) c->lowest = (uint8_t)n;
        }
        break;
    case 3: case 7:                          /* specific EOI (and rotate) */
        c->isr &= (uint8_t)~(1u << level);
        if (cmd == 7) c->lowest = (uint8_t)level;
        break;
    case 6: c->lowest = (uint8_t)level; break;       /* set priority */
    case 4: c->rotate_aeoi = true; break;
    case 0: c->rotate_aeoi = false; break;
    default: break;                                  /* 2: no operation */
    }
}

/* A command-port write: ICW1, OCW2 or OCW3. */
static void write_cmd(struct vpic_chip *c, uint8_t v)
{
    if (v & 0x10) {                          /* ICW1 */
        c->init_step = 2;
        c->icw4 = v & 1;
        c->single = v & 2;
        c->imr = 0; c->isr = 0; c->irr = 0;
        c->lowest = 7; c->read_isr = false; c->poll = false; c->special_mask = false;
        c->auto_eoi = false; c->rotate_aeoi = false; c->sfnm = false;
        return;
    }
    if (v & 0x08) {                          /* OCW3 */
        if (v & 0x04) c->poll = true;
        if (v & 0x02) c->read_isr = v & 1;
        if (v & 0x40) c->special_mask = v & 0x20;
        return;
    }
    ocw2(c, v);
}

/* A data-port write: the next ICW during initialisation (ICW3 skipped in single mode), else
 * the mask (OCW1). */
static void write_data(struct vpic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2: c->base = v & 0xf8; c->init_step = c->single ? (c->icw4 ? 4 : 0) : 3; break;
    case 3: c->init_step = c->icw4 ? 4 : 0; break;
    case 4: c->auto_eoi = v & 2; c->sfnm = v & 0x10; c->init_step = 0; break;
    default: c->imr = v; break;
    }
}

uint8_t vpic_read(struct vpic *p, uint16_t port)
{
    switch (port) {
    case VPIC_ELCR0: return p->chip[0].elcr;
    case VPIC_ELCR1: return p->chip[1].elcr;
    }
    struct vpic_chip *c = &p->chip[port >= VPIC_SLAVE_CMD];
    if (c->poll) {
        /* After a poll command the next read, at either port, is the poll (8259A datasheet:
         * the next RD pulse is an interrupt acknowledge). */
        /* Poll: acknowledge the highest request as an INTA would, report it in the low bits. */
        c->poll = false;
        int n = chip_request(c, c == &p->chip[0] ? master_irr(p) : c->irr);
        if (n < 0) return 0;
        chip_ack(c, (unsigned)n);
        return (uint8_t)(0x80 | n);
    }
    if (port & 1) return c->imr;
    return c->read_isr ? c->isr : (c == &p->chip[0] ? master_irr(p) : c->irr);
}

void vpic_write(struct vpic *p, uint16_t port, uint8_t v)
{
    switch (port) {
    case VPIC_ELCR0: p->chip[0].elcr = v & 0xf8; return;    /* IRQ0-2 are always edge */
    case VPIC_ELCR1: p->chip[1].elcr = v & 0xde; return;    /* IRQ8 and IRQ13 too */
    case VPIC_MASTER_CMD: case VPIC_SLAVE_CMD: write_cmd(&p->chip[port == VPIC_SLAVE_CMD], v); return;
    case VPIC_MASTER_DATA: case VPIC_SLAVE_DATA: write_data(&p->chip[port == VPIC_SLAVE_DATA], v); return;
    default: p->bad_writes++; return;
    }
}

/* The virtual 8254 PIT: three channels counting at 1.193182 MHz, and port 0x61's gate. */
#ifndef SUPERVISOR_DEV_VPIT_H
#define SUPERVISOR_DEV_VPIT_H
#include <stdbool.h>
#include <stdint.h>

#define VPIT_CH0   0x40
#define VPIT_CTRL  0x43
#define VPIT_PORTB 0x61
#define VPIT_HZ    1193182u

struct vpit_channel {
    uint8_t mode;            /* 0-5 */
    uint8_t mode_bits;       /* the mode field as written (6 and 7 too), for the status byte */
    uint8_t access;          /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint32_t reload;         /* the programmed count (65536 for 0) */
    bool counting;           /* a count has been loaded (and the gate allowed it to start) */
    uint64_t start_ns;       /* when counting started */
    bool write_msb;          /* the next write of a word count is its MSB */
    uint8_t write_lsb;
    bool read_msb;           /* the next read of a word count is its MSB */
    bool latched;            /* a latched count waits to be read */
    uint16_t latch;
    bool latch_msb_next;
    bool status_latched;
    uint8_t status;
    bool gate;
    bool null_count;         /* a control word was written and no count since */
    uint64_t loaded_ns;      /* when the last count was written: it reaches the counter a clock later */
    uint64_t edges_seen;     /* channel 0: output rising edges already turned into IRQ0 */
};

struct vpit {
    struct vpit_channel ch[3];
    uint8_t portb;           /* port 0x61 bits 0 (gate 2) and 1 (speaker data) */
};

/* Power-on state: nothing counting. */
void vpit_init(struct vpit *p);
/* Port access at time now (ns): 0x40-0x43 and 0x61. */
uint8_t vpit_read(struct vpit *p, uint16_t port, uint64_t now);
void vpit_write(struct vpit *p, uint16_t port, uint8_t v, uint64_t now);
/* The current count of channel c at time now. */
uint16_t vpit_count(const struct vpit *p, unsigned c, uint64_t now);
/* The output of channel c at time now. */
bool vpit_out(const struct vpit *p, unsigned c, uint64_t now);
/* New rising edges of channel 0's output (IRQ0) since the last call. */
uint64_t vpit_irq0_edges(struct vpit *p, uint64_t now);
/* When channel 0's next rising edge is due (ns), or UINT64_MAX if never. */
uint64_t vpit_next_edge(const struct vpit *p, uint64_t now);

#endif

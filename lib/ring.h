/* The message ring: one shared page, two single-producer single-consumer rings of fixed-size
 * messages (monitor to host: requests; host to monitor: answers and events). */
#ifndef LIB_RING_H
#define LIB_RING_H
#include <stdbool.h>
#include <stdint.h>

/*
 * Both sides map the page at different addresses, so nothing in it is a pointer: the
 * indices are free-running 32-bit counters (slot = index % RING_SLOTS), written only by
 * their owner: `head` by the producer, `tail` by the consumer. A ring is full when
 * head - tail == RING_SLOTS; a producer that finds it full must suspend (the monitor) or
 * serve the other side first (the host): a message is never dropped or overwritten.
 * Only one CPU runs either side at a time (the world switch orders them), so plain
 * stores suffice; the compiler barrier keeps the message body before the index update.
 */
#define RING_SLOTS 32
#define RING_ARGS 6

enum msg_type {
    MSG_NONE = 0,
    /* monitor -> host */
    MSG_START_DONE,     /* the monitor is up */
    MSG_IO,             /* port access: a0 port, a1 size, a2 is_write, a3 value */
    MSG_HALT,           /* the guest halted with interrupts on: wake it with an interrupt */
    MSG_HOST_IRQ,       /* a host interrupt arrived while the guest ran: a0 vector */
    MSG_WANT_IRQ,       /* the guest can take an interrupt: acknowledge one if pending */
    MSG_PAGES_WANTED,   /* a0 pages wanted for the pool */
    MSG_PAGES_BACK,     /* a0 (1-5) pool slots handed back, in a1..a5 */
    MSG_GUEST_STOP,     /* the guest cannot go on: a0 reason (enum stop_reason); text in the shared page */
    MSG_GUEST_EXIT,     /* the guest ended itself: a0 status */
    MSG_LOG,            /* the monitor wants a line logged: text in the shared page */
    MSG_RELOCATE,       /* a0 new region base; a1 0: map the transition page there too, 1: moved */
    MSG_MMIO,           /* device-page access: a0 guest-physical address, a1 size, a2 is_write, a3 value;
                           a read is answered by MSG_IO_DONE, a write is not answered */
    /* host -> monitor */
    MSG_IO_DONE,        /* a0 value read (port or MMIO) */
    MSG_INJECT,         /* deliver interrupt a0 (vector) when the guest can take it */
    MSG_NO_IRQ,         /* answer to MSG_WANT_IRQ: nothing pending */
    MSG_PAGES,          /* a0 pool slot now backed by host frame a1 (frame number) */
    MSG_SHRINK,         /* give back a0 pages if you can */
    MSG_RESUME,         /* nothing to say: go on */
    MSG_TYPES
};

struct msg {
    uint16_t type;
    uint16_t flags;
    uint32_t seq;
    uint32_t a[RING_ARGS];
};

struct ring {
    volatile uint32_t head;     /* written by the producer */
    volatile uint32_t tail;     /* written by the consumer */
    uint32_t produced, full_hits;   /* counters, producer-owned */
    struct msg slot[RING_SLOTS];
};

struct ring_page {
    struct ring to_host;
    struct ring to_monitor;
};

_Static_assert(sizeof(struct ring_page) <= 4096, "the ring must fit one page");

/* Empty both rings. */
void ring_init(struct ring_page *p);
/* Append m to r; false (nothing written) when the ring is full. */
bool ring_put(struct ring *r, const struct msg *m);
/* Take the oldest message of r into m; false when the ring is empty. */
bool ring_get(struct ring *r, struct msg *m);
/* Messages waiting in r. */
uint32_t ring_count(const struct ring *r);
static inline bool ring_full(const struct ring *r) { return ring_count(r) >= RING_SLOTS; }
static inline bool ring_empty(const struct ring *r) { return ring_count(r) == 0; }
/* The name of a message type, for logs. */
const char *msg_name(unsigned type);

#endif

/* The message ring: indices, not pointers, cross the boundary; full means wait, never drop. */
#include "lib/ring.h"
#include "lib/string.h"

#define barrier() __asm__ volatile("" ::: "memory")

void ring_init(struct ring_page *p)
{
    memset(p, 0, sizeof *p);
}

uint32_t ring_count(const struct ring *r)
{
    return r->head - r->tail;
}

bool ring_put(struct ring *r, const struct msg *m)
{
    if (ring_full(r)) { r->full_hits++; return false; }
    struct msg *s = &r->slot[r->head % RING_SLOTS];
    *s = *m;
    s->seq = r->head;
    barrier();
    r->head = r->head + 1;
    r->produced++;
    return true;
}

bool ring_get(struct ring *r, struct msg *m)
{
    if (ring_empty(r)) return false;
    /* A corrupt index (head ran more than a ring ahead) is treated as empty: the consumer
     * never reads beyond what a well-formed producer could have written. */
    if (ring_count(r) > RING_SLOTS) return false;
    *m = r->slot[r->tail % RING_SLOTS];
    barrier();
    r->tail = r->tail + 1;
    return true;
}

const char *msg_name(unsigned type)
{
    static const char *const names[MSG_TYPES] = {
        "none", "start-done", "io", "halt", "host-irq", "want-irq", "pages-wanted", "pages-back",
        "guest-stop", "guest-exit", "log", "relocate", "mmio", "io-done", "inject", "no-irq", "pages", "shrink", "resume",
    };
    return type < MSG_TYPES ? names[type] : "unknown";
}

/* The message ring: empty, full, wrap-around, every message type round trip, corrupt indices. */
#include "tests/unit/unit.h"
#include "lib/ring.h"

static struct ring_page page;

static struct msg mk(unsigned type, uint32_t a0)
{
    struct msg m = { .type = (uint16_t)type };
    for (int i = 0; i < RING_ARGS; i++) m.a[i] = a0 + (uint32_t)i;
    return m;
}

TEST(ring_empty_and_full)
{
    struct msg m;
    ring_init(&page);
    CHECK(ring_empty(&page.to_host));
    CHECK(!ring_get(&page.to_host, &m));
    for (uint32_t i = 0; i < RING_SLOTS; i++) CHECK(ring_put(&page.to_host, &(struct msg){ .type = MSG_IO, .a = { i } }));
    CHECK(ring_full(&page.to_host));
    struct msg extra = mk(MSG_HALT, 99);
    CHECK(!ring_put(&page.to_host, &extra));            /* full: refused, not overwritten */
    CHECK_EQ(page.to_host.full_hits, 1);
    CHECK(ring_get(&page.to_host, &m));
    CHECK_EQ(m.type, MSG_IO);
    CHECK_EQ(m.a[0], 0);                                 /* the oldest, not the refused one */
    CHECK(ring_empty(&page.to_monitor));                 /* the rings are independent */
}

TEST(ring_wraparound_order)
{
    struct msg m;
    ring_init(&page);
    uint32_t next_in = 0, next_out = 0;
    /* Push and pop unevenly for many laps; order and content survive every wrap. */
    for (int round = 0; round < 1000; round++) {
        int puts = 1 + round % 7, gets = 1 + (round * 3) % 5;
        for (int i = 0; i < puts; i++) {
            struct msg x = mk(MSG_IO, next_in);
            if (ring_put(&page.to_monitor, &x)) next_in++;
        }
        for (int i = 0; i < gets; i++) {
            if (!ring_get(&page.to_monitor, &m)) break;
            CHECK_EQ(m.a[0], next_out);
            CHECK_EQ(m.a[5], next_out + 5);
            CHECK_EQ(m.seq, next_out);
            next_out++;
        }
        CHECK_EQ(ring_count(&page.to_monitor), next_in - next_out);
    }
    CHECK(next_out > 1000);
}

TEST(ring_index_overflow)
{
    /* Free-running indices near 2^32 keep working across the wrap of the counter itself. */
    struct msg m;
    ring_init(&page);
    page.to_host.head = page.to_host.tail = 0xfffffff0u;
    for (uint32_t i = 0; i < 40; i++) {
        struct msg x = mk(MSG_LOG, i);
        CHECK(ring_put(&page.to_host, &x));
        CHECK(ring_get(&page.to_host, &m));
        CHECK_EQ(m.a[0], i);
    }
    CHECK_EQ(page.to_host.head, 0xfffffff0u + 40);
}

TEST(ring_every_type_round_trip)
{
    struct msg m;
    ring_init(&page);
    for (unsigned t = 1; t < MSG_TYPES; t++) {
        struct msg x = mk(t, t * 100);
        x.flags = (uint16_t)t;
        CHECK(ring_put(&page.to_host, &x));
        CHECK(ring_get(&page.to_host, &m));
        CHECK_EQ(m.type, t);
        CHECK_EQ(m.flags, t);
        for (int i = 0; i < RING_ARGS; i++) CHECK_EQ(m.a[i], t * 100 + (unsigned)i);
        CHECK(strcmp(msg_name(t), "unknown") != 0);
    }
    CHECK(!strcmp(msg_name(MSG_TYPES), "unknown"));
}

TEST(ring_corrupt_index)
{
    /* A head far ahead of tail (a corrupted page) reads as empty rather than garbage. */
    struct msg m;
    ring_init(&page);
    page.to_host.head = 1000;
    CHECK(!ring_get(&page.to_host, &m));
}

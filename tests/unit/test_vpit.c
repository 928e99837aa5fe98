/* The virtual 8254: counts from elapsed time, modes 0, 2, 3, latches, read-back, port 0x61. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vpit.h"

static struct vpit p;
#define US 1000ull
#define MS 1000000ull

/* Program channel c with mode and a 16-bit count at time t. */
static void program(unsigned c, unsigned mode, uint16_t count, uint64_t t)
{
    vpit_write(&p, 0x43, (uint8_t)(c << 6 | 3 << 4 | mode << 1), t);
    vpit_write(&p, (uint16_t)(0x40 + c), (uint8_t)count, t);
    vpit_write(&p, (uint16_t)(0x40 + c), (uint8_t)(count >> 8), t);
}

TEST(vpit_mode2_rate_generator_edges)
{
    vpit_init(&p);
    program(0, 2, 11932, 0);                    /* 100 Hz */
    CHECK_EQ(vpit_irq0_edges(&p, 5 * MS), 0);
    CHECK_EQ(vpit_irq0_edges(&p, 10 * MS + 10 * US), 1);
    CHECK_EQ(vpit_irq0_edges(&p, 35 * MS), 2);  /* 20 and 30 ms */
    CHECK_EQ(vpit_irq0_edges(&p, 35 * MS), 0);  /* never twice */
    uint64_t next = vpit_next_edge(&p, 35 * MS);
    CHECK(next > 39 * MS && next < 41 * MS);
}

TEST(vpit_counter_latch_reads_a_frozen_value)
{
    vpit_init(&p);
    program(0, 2, 50000, 0);
    vpit_write(&p, 0x43, 0x00, 10 * MS);        /* latch channel 0 */
    uint8_t lo = vpit_read(&p, 0x40, 20 * MS), hi = vpit_read(&p, 0x40, 30 * MS);
    uint16_t v = (uint16_t)(lo | hi << 8);
    /* 10 ms = 11931.8 ticks: 50000 - 11931 */
    CHECK(v >= 38068 && v <= 38070);
    /* Without a latch, the count moves on. */
    lo = vpit_read(&p, 0x40, 20 * MS); hi = vpit_read(&p, 0x40, 20 * MS);
    v = (uint16_t)(lo | hi << 8);
    CHECK(v >= 26136 && v <= 26138);
}

TEST(vpit_mode0_terminal_count_output)
{
    vpit_init(&p);
    program(0, 0, 1193, 0);                     /* ~1 ms */
    CHECK(!vpit_out(&p, 0, 500 * US));
    CHECK(vpit_out(&p, 0, 1100 * US));
    CHECK_EQ(vpit_irq0_edges(&p, 2 * MS), 1);
    CHECK_EQ(vpit_irq0_edges(&p, 50 * MS), 0);  /* one-shot */
    CHECK_EQ(vpit_next_edge(&p, 50 * MS), UINT64_MAX);
}

TEST(vpit_readback_status)
{
    vpit_init(&p);
    program(2, 3, 1000, 0);
    vpit_write(&p, 0x43, 0xe8, 0);              /* read-back status of channel 2, no count */
    uint8_t st = vpit_read(&p, 0x42, 0);
    CHECK_EQ(st & 0x3f, 3 << 4 | 3 << 1);
    vpit_write(&p, 0x43, 0x1c, 0);              /* channel 0, LSB only, mode 6 (mode 2) */
    vpit_write(&p, 0x40, 0x80, 0);
    vpit_write(&p, 0x43, 0xe2, 0);
    CHECK_EQ(vpit_read(&p, 0x40, 0) & 0x7f, 0x5c);      /* the mode as written; null count: no clock yet */
    vpit_write(&p, 0x43, 0xe2, 1 * US);
    CHECK_EQ(vpit_read(&p, 0x40, 1 * US) & 0x7f, 0x1c); /* a clock later the count is in */
    CHECK_EQ(p.ch[0].mode, 2);
    vpit_write(&p, 0x43, 0x10, 2 * US);                  /* a control word alone: null count */
    vpit_write(&p, 0x43, 0xe2, 9 * US);
    CHECK_EQ(vpit_read(&p, 0x40, 9 * US) & 0x40, 0x40);
}

TEST(vpit_channel2_gate_and_port61)
{
    /* The TSC calibration sequence: gate on, mode 0, count, poll port 0x61 bit 5. */
    vpit_init(&p);
    vpit_write(&p, 0x61, 0x01, 0);
    program(2, 0, 11932, 0);                    /* 10 ms */
    CHECK(!(vpit_read(&p, 0x61, 5 * MS) & 0x20));
    CHECK(vpit_read(&p, 0x61, 11 * MS) & 0x20);
    CHECK_EQ(vpit_read(&p, 0x61, 11 * MS) & 0x03, 0x01);
    /* Gate low before the count: nothing counts until it rises. */
    vpit_init(&p);
    program(2, 0, 11932, 0);
    CHECK(!(vpit_read(&p, 0x61, 20 * MS) & 0x20));
    vpit_write(&p, 0x61, 0x01, 20 * MS);
    CHECK(!(vpit_read(&p, 0x61, 25 * MS) & 0x20));
    CHECK(vpit_read(&p, 0x61, 31 * MS) & 0x20);
}

TEST(vpit_refresh_bit_toggles)
{
    vpit_init(&p);
    uint8_t a = vpit_read(&p, 0x61, 0) & 0x10, b = vpit_read(&p, 0x61, 16 * US) & 0x10;
    CHECK(a != b);
}

/* MMIO: guest accesses to device pages, performed by the shared emulator (monitor/emu/).
 *
 * The device models live with the supervisor, and the emulator cannot stop in the middle of
 * an instruction to wait for one. So an instruction that touches a device page runs as often
 * as it has device reads, plus one: each run stops with MMIO_WAIT at the first device read
 * whose value the monitor does not have yet (reads come before writes in every instruction,
 * so nothing has changed), the monitor asks the supervisor and runs the instruction again from
 * its start; the bus hands back the values already read, in order, and the instruction gets a
 * little further. The device is read exactly once per read the instruction makes. Device
 * writes are held until the instruction has completed and then go out in order, before the
 * guest runs on: `orl $x, (apic)` is one read round trip and one write.
 */
#include "monitor/mmio.h"
#include "monitor/mon.h"
#include "monitor/gmem.h"
#include "paging/stlb.h"
#include "arch/x86/mmu.h"

#define MMIO_PARTS 4          /* device reads (and writes) per instruction, 4 bytes each */

static struct {
    uint32_t value[MMIO_PARTS];
    unsigned have, used;      /* values read from devices; used by the current run */
    uint32_t want_gpa, want_size;
    struct { uint32_t gpa, size, value; } wr[MMIO_PARTS];
    unsigned writes;
} io;

uint32_t mmio_fault_va;

void mmio_begin(void) { io.have = io.used = io.writes = 0; }

/* Translate lin for n bytes; *dev tells whether they are in a device page. 0, a walk fault,
 * or MMIO_UNSUPPORTED for an access that is partly in a device page. */
static uint32_t translate(uint32_t lin, unsigned n, unsigned acc, uint32_t *gpa, bool *dev)
{
    struct gmode m = { vcpu.cr0, vcpu.cr3, vcpu.cr4 };
    struct gtrans t;
    uint32_t e = stlb_walk(&m, lin, acc, &t);
    if (e) { mmio_fault_va = lin; return e; }
    *gpa = t.gpa;
    *dev = gpa_is_device(t.gpa);
    uint32_t last = lin + n - 1;
    if ((last ^ lin) & ~(PAGE_SIZE - 1)) {
        struct gtrans t2;
        e = stlb_walk(&m, last, acc, &t2);
        if (e) { mmio_fault_va = last & ~(PAGE_SIZE - 1); return e; }   /* the first byte on that page, as the CPU reports */
        if (*dev || gpa_is_device(t2.gpa)) return MMIO_UNSUPPORTED;
    }
    return 0;
}

/* Read n bytes at lin: guest memory, or device values in the order this instruction reads them. */
static uint32_t bus_read(void *ctx, uint32_t lin, void *buf, unsigned n)
{
    (void)ctx;
    uint32_t gpa;
    bool dev;
    uint32_t e = translate(lin, n, glin_acc(), &gpa, &dev);
    if (e) return e;
    if (!dev) return glin_read(lin, buf, n, glin_acc(), &mmio_fault_va);
    uint8_t *b = buf;
    for (unsigned off = 0; off < n; off += 4) {
        unsigned size = n - off < 4 ? n - off : 4;
        if (io.used == io.have) {
            if (io.have == MMIO_PARTS) return MMIO_UNSUPPORTED;
            io.want_gpa = gpa + off;
            io.want_size = size;
            return MMIO_WAIT;
        }
        uint32_t v = io.value[io.used++];
        for (unsigned i = 0; i < size; i++) b[off + i] = (uint8_t)(v >> (8 * i));
    }
    return 0;
}

/* Write n bytes at lin: guest memory now, device writes held until the instruction completes. */
static uint32_t bus_write(void *ctx, uint32_t lin, const void *buf, unsigned n)
{
    (void)ctx;
    uint32_t gpa;
    bool dev;
    uint32_t e = translate(lin, n, glin_acc() | ACC_WRITE, &gpa, &dev);
    if (e) return e;
    if (!dev) return glin_write(lin, buf, n, glin_acc(), &mmio_fault_va);
    const uint8_t *b = buf;
    for (unsigned off = 0; off < n; off += 4) {
        unsigned size = n - off < 4 ? n - off : 4;
        if (io.writes == MMIO_PARTS) return MMIO_UNSUPPORTED;
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) v |= (uint32_t)b[off + i] << (8 * i);
        io.wr[io.writes].gpa = gpa + off;
        io.wr[io.writes].size = size;
        io.wr[io.writes].value = v;
        io.writes++;
    }
    return 0;
}

const struct emu_bus mmio_bus = { bus_read, bus_write, 0 };

void mmio_read_request(struct msg *req)
{
    *req = (struct msg){ .type = MSG_MMIO, .a = { io.want_gpa, io.want_size, 0, 0 } };
    io.writes = 0;            /* the instruction runs again from its start */
    io.used = 0;
}

void mmio_read_answer(uint32_t value)
{
    io.value[io.have++] = value;
    io.used = 0;
    io.writes = 0;
}

bool mmio_take_writes(struct msg *last)
{
    unsigned n = io.writes;
    io.writes = 0;
    io.used = 0;
    if (!n) return false;
    for (unsigned i = 0; i < n; i++) {
        struct msg m = { .type = MSG_MMIO, .a = { io.wr[i].gpa, io.wr[i].size, 1, io.wr[i].value } };
        if (i + 1 == n) { *last = m; break; }
        if (!ring_put(&ring->to_host, &m))
            guest_stop(STOP_MONITOR_FAULT, "message ring to the host is full");
    }
    return true;
}

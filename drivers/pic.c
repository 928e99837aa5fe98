/* The host's 8259 pair: the ICW sequence that moves IRQs off the exception vectors, and the
 * spurious IRQ 7 and 15 they send when a request goes away before the CPU acknowledges it.
 *
 * An 8259 raises INTR when an input rises; the CPU acknowledges when its IF lets it, which
 * for umbra can be a whole tick later (a guest running with IF clear, the world switch).
 * If the input is low at that moment, the chip has nothing to give and answers with IR7's
 * vector without setting IR7's in-service bit. The PIT in mode 2 drops IRQ0 for one input
 * clock per period, so an acknowledgment that falls into that clock gets vector 0x27. Bochs's
 * 8259 does exactly this (an edge input that falls clears its request); QEMU's keeps the
 * request, so it never shows. An unhandled 0x27 was a panic, which is how the Bochs runs
 * "stopped" (docs/monitor.md, "The NMI watchdog"). The slave does the same with IR7 of its
 * own (vector 0x2f), and then the master has its cascade input in service and wants an EOI.
 */
#include "drivers/pic.h"
#include "arch/x86/io.h"
#include "arch/x86/trap.h"
#include "drivers/pit.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define OCW2_EOI 0x20
#define OCW3_READ_IRR 0x0a
#define OCW3_READ_ISR 0x0b
#define IR7 (1u << 7)

static uint16_t mask = 0xffff;
volatile uint32_t pic_spurious;

/* Write both mask registers from `mask`. */
static void pic_write_mask(void)
{
    outb(PIC1_DATA, (uint8_t)mask);
    outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

/* The in-service register of the chip whose command port is cmd (then back to reading IRR). */
static uint8_t read_isr(uint16_t cmd)
{
    outb(cmd, OCW3_READ_ISR);
    uint8_t isr = inb(cmd);
    outb(cmd, OCW3_READ_IRR);
    return isr;
}

/* Vector IRQ_BASE + 7: spurious unless IR7 is in service (umbra has no IRQ 7 device). */
static void master_ir7(struct trap_frame *f)
{
    if (read_isr(PIC1_CMD) & IR7) trap_report(f);
    pic_spurious++;
}

/* Vector IRQ_BASE + 15: spurious unless the slave's IR7 is in service; the master's cascade is. */
static void slave_ir7(struct trap_frame *f)
{
    if (read_isr(PIC2_CMD) & IR7) trap_report(f);
    pic_spurious++;
    outb(PIC1_CMD, OCW2_EOI);
}

void pic_init(void)
{
    outb(PIC1_CMD, ICW1_INIT_ICW4); io_wait();
    outb(PIC2_CMD, ICW1_INIT_ICW4); io_wait();
    outb(PIC1_DATA, IRQ_BASE); io_wait();
    outb(PIC2_DATA, IRQ_BASE + 8); io_wait();
    outb(PIC1_DATA, 1u << 2); io_wait();      /* slave on IR2 */
    outb(PIC2_DATA, 2); io_wait();            /* slave identity */
    outb(PIC1_DATA, ICW4_8086); io_wait();
    outb(PIC2_DATA, ICW4_8086); io_wait();
    mask = 0xffff & ~(1u << 2);               /* cascade line open */
    pic_write_mask();
    trap_set_handler(IRQ_BASE + 7, master_ir7);
    trap_set_handler(IRQ_BASE + 15, slave_ir7);
}

void pic_unmask(unsigned irq) { mask &= (uint16_t)~(1u << irq); pic_write_mask(); }
void pic_mask(unsigned irq) { mask |= (uint16_t)(1u << irq); pic_write_mask(); }

void pic_eoi(unsigned irq)
{
    if (irq >= 8) outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

/* IRQ0 is requested (the master's IRR), whatever IF says. */
static bool irq0_requested(void)
{
    return inb(PIC1_CMD) & 1u;               /* OCW3 left the chip reading IRR */
}

/* With IF clear: wait for IRQ0's request (INTR is up), then for the PIT's low clock, which
 * takes the request back on an 8259 that follows its input; open IF for one instruction there.
 * A bounded number of polls each, so a PIT or 8259 that never shows that state cannot hang. */
unsigned pic_provoke_spurious(unsigned tries)
{
    uint32_t before = pic_spurious;
    for (unsigned t = 0; t < tries && pic_spurious == before; t++) {
        __asm__ volatile("cli");
        uint32_t n = 0;
        while (!irq0_requested() && ++n < 1000000) ;
        n = 0;
        while (pit_out_high() && ++n < 1000000) ;
        __asm__ volatile("sti; nop; cli" ::: "memory");
        __asm__ volatile("sti");
    }
    return pic_spurious - before;
}

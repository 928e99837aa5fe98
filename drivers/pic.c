/* The host's 8259 pair: the ICW sequence that moves IRQs off the exception vectors. */
#include "drivers/pic.h"
#include "arch/x86/io.h"
#include "arch/x86/trap.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01
#define OCW2_EOI 0x20

static uint16_t mask = 0xffff;

/* Write both mask registers from `mask`. */
static void pic_write_mask(void)
{
    outb(PIC1_DATA, (uint8_t)mask);
    outb(PIC2_DATA, (uint8_t)(mask >> 8));
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
}

void pic_unmask(unsigned irq) { mask &= (uint16_t)~(1u << irq); pic_write_mask(); }
void pic_mask(unsigned irq) { mask |= (uint16_t)(1u << irq); pic_write_mask(); }

void pic_eoi(unsigned irq)
{
    if (irq >= 8) outb(PIC2_CMD, OCW2_EOI);
    outb(PIC1_CMD, OCW2_EOI);
}

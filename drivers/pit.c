/* The host tick: 8254 channel 0 in mode 2, counted on IRQ0. */
#include "drivers/pit.h"
#include "drivers/pic.h"
#include "arch/x86/io.h"
#include "arch/x86/trap.h"

volatile uint64_t ticks;
unsigned tick_hz;

/* IRQ0: count the tick and acknowledge it. */
static void pit_irq(struct trap_frame *f)
{
    (void)f;
    ticks++;
    pic_eoi(0);
}

void pit_init(unsigned hz)
{
    uint32_t div = PIT_HZ / hz;
    tick_hz = hz;
    outb(0x43, 0x34);                 /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
    trap_set_handler(IRQ_BASE + 0, pit_irq);
    pic_unmask(0);
}

/* The host tick: 8254 channel 0 in mode 2, counted on IRQ0. */
#include "drivers/pit.h"
#include "drivers/pic.h"
#include "arch/x86/io.h"
#include "arch/x86/trap.h"

#define PIT_CMD 0x43
#define PIT_CH0 0x40
#define PIT_READBACK_STATUS_CH0 0xe2   /* read-back: status only (no count), channel 0 */
#define PIT_STATUS_OUT 0x80

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
    outb(PIT_CMD, 0x34);              /* channel 0, lobyte/hibyte, mode 2 */
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
    trap_set_handler(IRQ_BASE + 0, pit_irq);
    pic_unmask(0);
}

/* Channel 0's OUT pin, from the 8254's read-back status byte. */
bool pit_out_high(void)
{
    outb(PIT_CMD, PIT_READBACK_STATUS_CH0);
    return (inb(PIT_CH0) & PIT_STATUS_OUT) != 0;
}

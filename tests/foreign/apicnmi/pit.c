/* apicos: PIT channel 2 as a stopwatch, the way Linux calibrates clocks against it: the
 * speaker off, the gate (port 0x61 bit 0) high, mode 0 with a count, and its output read
 * back in port 0x61 bit 5 once the count has run out. */
#include "hw.h"

void pit2_start(uint16_t count)
{
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb0);                     /* channel 2, lobyte/hibyte, mode 0, binary */
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
}

bool pit2_done(void) { return inb(0x61) & 0x20; }

void pit_delay_us(uint32_t us)
{
    while (us) {
        uint32_t chunk = us > 50000 ? 50000 : us;
        uint32_t count = chunk * 1193u / 1000u;
        if (count < 2) count = 2;
        pit2_start((uint16_t)count);
        while (!pit2_done()) {}
        us -= chunk;
    }
}

/* Time for the device models: the TSC, calibrated against the PIT tick at boot. */
#include "supervisor/clock.h"
#include "supervisor/log.h"
#include "arch/x86/cpu.h"
#include "drivers/pit.h"
#include "drivers/rtc.h"

static uint64_t tsc0;
static uint32_t tsc_khz;
static uint64_t epoch;

void clock_init(void)
{
    /* Count TSC cycles over 20 host ticks, starting on a tick edge. */
    uint64_t t = ticks;
    while (ticks == t) __asm__ volatile("hlt");
    uint64_t start = rdtsc(), first = ticks;
    while (ticks < first + 20) __asm__ volatile("hlt");
    uint64_t cycles = rdtsc() - start;
    tsc_khz = (uint32_t)(cycles * tick_hz / 20 / 1000);
    if (!tsc_khz) tsc_khz = 1;
    struct rtc_time now;
    rtc_read(&now);
    tsc0 = rdtsc();
    epoch = rtc_to_epoch(&now);
    kprintf("clock: TSC at %u.%03u MHz\n", tsc_khz / 1000, tsc_khz % 1000);
}

uint64_t clock_ns(void)
{
    uint64_t d = rdtsc() - tsc0;
    /* d * 1e6 / khz without overflow for years of uptime: split the quotient. */
    return (d / tsc_khz) * 1000000u + (d % tsc_khz) * 1000000u / tsc_khz;
}

uint32_t clock_tsc_khz(void) { return tsc_khz; }
uint64_t clock_epoch(void) { return epoch; }

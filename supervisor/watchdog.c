/* The host's side of the NMI watchdog (docs/monitor.md, "The NMI watchdog").
 *
 * The real IF follows the guest's IF, so a guest that keeps IF clear keeps the host's
 * interrupts waiting. An NMI cannot be held off that way: every PIT tick (IRQ0, which a PC
 * wires to the 8259's input 0 and to the I/O APIC's pin 2) is also sent as an NMI. The 8259
 * path is untouched: the local APIC's LINT0 stays in ExtINT (virtual-wire mode), so the host's
 * timer interrupt arrives as before. The NMIs land in the monitor while a guest runs; the
 * monitor counts them and takes the CPU back from a guest that has had IF clear for
 * watchdog= milliseconds. An NMI that lands in the host is counted here and nothing else.
 */
#include "supervisor/watchdog.h"
#include "supervisor/config.h"
#include "supervisor/hostmap.h"
#include "supervisor/log.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/regs.h"
#include "arch/x86/trap.h"
#include "drivers/pit.h"

#define APIC_BASE_ENABLE  (1u << 11)       /* IA32_APIC_BASE: the local APIC is on */
#define APIC_BASE_ADDR    0xfffff000u
#define PIT_IOAPIC_PIN    2u               /* ISA IRQ0 on a PC's I/O APIC */
#define SPURIOUS_VECTOR   0xffu

volatile uint32_t watchdog_host_nmis;
static bool active;

static void host_nmi(struct trap_frame *f) { (void)f; watchdog_host_nmis++; }
static void spurious(struct trap_frame *f) { (void)f; }

static uint32_t ioapic_read(volatile uint32_t *io, uint32_t reg)
{
    io[IOAPIC_REGSEL / 4] = reg;
    return io[IOAPIC_WIN / 4];
}

static void ioapic_write(volatile uint32_t *io, uint32_t reg, uint32_t v)
{
    io[IOAPIC_REGSEL / 4] = reg;
    io[IOAPIC_WIN / 4] = v;
}

bool watchdog_init(void)
{
    if (!config.watchdog_ms) {
        kprintf("watchdog: off (watchdog=off)\n");
        return false;
    }
    if (!cpu.apic || !cpu.msr) {
        kprintf("watchdog: this CPU has no local APIC; running without the NMI watchdog\n");
        return false;
    }
    uint64_t msr = rdmsr(MSR_APIC_BASE);
    uint32_t lapic_pa = (uint32_t)msr & APIC_BASE_ADDR;
    hostmap_mmio(lapic_pa, 4096);
    hostmap_mmio(IOAPIC_BASE, 4096);
    volatile uint32_t *io = (volatile uint32_t *)IOAPIC_BASE;
    uint32_t ver = ioapic_read(io, IOAPIC_REG_VER);
    uint32_t pins = ((ver >> 16) & 0xff) + 1;
    if (ver == 0xffffffffu || (ver & 0xff) < 0x10 || pins <= PIT_IOAPIC_PIN || pins > 240) {
        kprintf("watchdog: no I/O APIC at %08x (version register %08x); running without the NMI watchdog\n",
                IOAPIC_BASE, ver);
        return false;
    }
    trap_set_handler(EXC_NMI, host_nmi);
    trap_set_handler(SPURIOUS_VECTOR, spurious);
    if (!(msr & APIC_BASE_ENABLE)) wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
    volatile uint32_t *lapic = (volatile uint32_t *)lapic_pa;
    /* Virtual wire: the 8259 through LINT0, the chipset's NMI through LINT1; no local sources. */
    lapic[LAPIC_SVR / 4] = LAPIC_SVR_ENABLE | SPURIOUS_VECTOR;
    lapic[LAPIC_TPR / 4] = 0;
    lapic[LAPIC_LVT_TIMER / 4] = LVT_MASKED;
    lapic[LAPIC_LVT_ERROR / 4] = LVT_MASKED;
    lapic[LAPIC_LVT_LINT0 / 4] = DM_EXTINT << LVT_DM_SHIFT;
    lapic[LAPIC_LVT_LINT1 / 4] = DM_NMI << LVT_DM_SHIFT;
    uint32_t id = lapic[LAPIC_ID / 4] >> LAPIC_ID_SHIFT;
    /* The host takes no interrupt through the I/O APIC: every pin masked but the PIT's, which
     * sends an edge-triggered NMI to this CPU. */
    for (uint32_t pin = 0; pin < pins && pin < IOAPIC_PINS; pin++) {
        ioapic_write(io, IOAPIC_REG_TABLE + 2 * pin, IORED_MASKED);
        ioapic_write(io, IOAPIC_REG_TABLE + 2 * pin + 1, 0);
    }
    ioapic_write(io, IOAPIC_REG_TABLE + 2 * PIT_IOAPIC_PIN + 1, id << IORED_DEST_SHIFT);
    ioapic_write(io, IOAPIC_REG_TABLE + 2 * PIT_IOAPIC_PIN, DM_NMI << LVT_DM_SHIFT);
    /* Prove it: NMIs must come, about one per tick. */
    uint64_t t0 = ticks;
    uint32_t n0 = watchdog_host_nmis;
    while (ticks < t0 + 5) __asm__ volatile("hlt");
    if (watchdog_host_nmis == n0) {
        ioapic_write(io, IOAPIC_REG_TABLE + 2 * PIT_IOAPIC_PIN, IORED_MASKED);
        kprintf("watchdog: the I/O APIC sent no NMI in 5 ticks (pin %u); running without the NMI watchdog\n",
                PIT_IOAPIC_PIN);
        return false;
    }
    active = true;
    kprintf("watchdog: %u ms, an NMI per tick through the I/O APIC (pin %u, %u NMIs in 5 ticks)\n",
            config.watchdog_ms, PIT_IOAPIC_PIN, watchdog_host_nmis - n0);
    return true;
}

uint32_t watchdog_limit(void)
{
    if (!active) return 0;
    uint32_t n = config.watchdog_ms * tick_hz / 1000;
    return n ? n : 1;
}

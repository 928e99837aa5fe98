/* The virtual I/O APIC: IOREGSEL/IOWIN, ID, version, arbitration, the redirection table.
 *
 * A pin's message goes to the local APIC when its entry is unmasked and names it (physical
 * APIC ID or logical destination): a vector (fixed and lowest-priority delivery) or an NMI
 * (NMI delivery; the 82093AA wants those edge-triggered, and a level-triggered one sets remote
 * IRR as QEMU's does). SMI, INIT and ExtINT entries send nothing. Edge-triggered pins send on a rising edge; an edge that
 * arrives while the pin is masked is lost, as the 82093AA datasheet says. Level-triggered
 * pins send while the line is high and remote IRR is clear, and set remote IRR; the local
 * APIC's EOI of that vector (or a write of the vector to the EOI register) clears it, and a
 * line still high sends again. Polarity is kept but not applied: every source here is an ISA
 * line, active high.
 */
#include "supervisor/dev/vioapic.h"
#include "lib/string.h"

#define RED_WRITABLE (LVT_VECTOR | LVT_DM_MASK | IORED_LOGICAL | IORED_LOW_ACTIVE | IORED_LEVEL | IORED_MASKED)

void vioapic_init(struct vioapic *a, struct vlapic *lapic)
{
    memset(a, 0, sizeof *a);
    a->lapic = lapic;
    for (unsigned i = 0; i < IOAPIC_PINS; i++) a->lo[i] = IORED_MASKED;
}

/* Send pin's message to the local APIC; false when nobody takes it. */
static bool send(struct vioapic *a, unsigned pin)
{
    uint32_t lo = a->lo[pin];
    unsigned mode = (lo & LVT_DM_MASK) >> LVT_DM_SHIFT;
    bool level = lo & IORED_LEVEL;
    if ((mode != DM_FIXED && mode != DM_LOWEST && mode != DM_NMI) ||
        !vlapic_match(a->lapic, (uint8_t)(a->hi[pin] >> IORED_DEST_SHIFT), lo & IORED_LOGICAL)) {
        a->dropped++;
        return false;
    }
    if (mode == DM_NMI) vlapic_nmi(a->lapic);          /* the vector is not used */
    else vlapic_accept(a->lapic, (uint8_t)(lo & LVT_VECTOR), level);
    a->delivered++;
    return true;
}

/* A level pin sends while its line is high, unmasked and not already in service. */
static void level_check(struct vioapic *a, unsigned pin)
{
    uint32_t lo = a->lo[pin];
    if (!(lo & IORED_LEVEL) || (lo & (IORED_MASKED | IORED_REMOTE_IRR)) || !(a->lines & (1u << pin))) return;
    if (send(a, pin)) a->lo[pin] |= IORED_REMOTE_IRR;
}

void vioapic_set_irq(struct vioapic *a, unsigned pin, bool level)
{
    if (pin >= IOAPIC_PINS) return;
    uint32_t bit = 1u << pin;
    bool was = a->lines & bit;
    if (level) a->lines |= bit; else a->lines &= ~bit;
    if (a->lo[pin] & IORED_LEVEL) level_check(a, pin);
    else if (level && !was && !(a->lo[pin] & IORED_MASKED)) send(a, pin);
}

bool vioapic_nmi_armed(const struct vioapic *a)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint32_t lo = a->lo[pin];
        if (!(lo & IORED_MASKED) && (lo & LVT_DM_MASK) >> LVT_DM_SHIFT == DM_NMI &&
            vlapic_match(a->lapic, (uint8_t)(a->hi[pin] >> IORED_DEST_SHIFT), lo & IORED_LOGICAL))
            return true;
    }
    return false;
}

void vioapic_eoi(struct vioapic *a, uint8_t vector)
{
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        if ((a->lo[pin] & LVT_VECTOR) != vector || !(a->lo[pin] & IORED_REMOTE_IRR)) continue;
        a->lo[pin] &= ~IORED_REMOTE_IRR;
        level_check(a, pin);
    }
}

/* The register IOREGSEL selects. */
static uint32_t reg_read(const struct vioapic *a)
{
    unsigned r = a->regsel;
    switch (r) {
    case IOAPIC_REG_ID: return (uint32_t)a->id << 24;
    case IOAPIC_REG_VER: return VIOAPIC_VERSION | (IOAPIC_PINS - 1) << 16;
    case IOAPIC_REG_ARB: return (uint32_t)a->id << 24;
    }
    if (r >= IOAPIC_REG_TABLE && r < IOAPIC_REG_TABLE + 2 * IOAPIC_PINS) {
        unsigned pin = (r - IOAPIC_REG_TABLE) / 2;
        return (r & 1) ? a->hi[pin] : a->lo[pin];
    }
    return 0;
}

/* A write to the register IOREGSEL selects; read-only and absent ones ignore it. */
static void reg_write(struct vioapic *a, uint32_t v)
{
    unsigned r = a->regsel;
    if (r == IOAPIC_REG_ID) { a->id = (uint8_t)((v >> 24) & 0x0f); return; }
    if (r < IOAPIC_REG_TABLE || r >= IOAPIC_REG_TABLE + 2 * IOAPIC_PINS) return;   /* read-only or absent */
    unsigned pin = (r - IOAPIC_REG_TABLE) / 2;
    if (r & 1) { a->hi[pin] = v & 0xff000000u; return; }
    a->lo[pin] = (a->lo[pin] & ~RED_WRITABLE) | (v & RED_WRITABLE);
    if (!(a->lo[pin] & IORED_LEVEL)) a->lo[pin] &= ~IORED_REMOTE_IRR;
    level_check(a, pin);
}

uint32_t vioapic_read(struct vioapic *a, uint32_t off, unsigned size)
{
    uint32_t v;
    switch (off & ~3u) {
    case IOAPIC_REGSEL: v = a->regsel; break;
    case IOAPIC_WIN: v = reg_read(a); break;
    default: return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    }
    v >>= (off & 3) * 8;
    return size >= 4 ? v : v & ((1u << (size * 8)) - 1);
}

void vioapic_write(struct vioapic *a, uint32_t off, unsigned size, uint32_t v)
{
    if (off == IOAPIC_REGSEL) a->regsel = (uint8_t)v;
    else if (off == IOAPIC_WIN && size == 4) reg_write(a, v);
    else if (off == IOAPIC_EOIR && size == 4) vioapic_eoi(a, (uint8_t)v);
}

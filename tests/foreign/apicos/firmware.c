/* apicos: finding the machine's interrupt layout the way Linux does on a PC.
 *
 * MP: the floating pointer "_MP_" on a 16-byte boundary in the first KiB of memory, the last
 * KiB of base memory, the BIOS ROM 0xF0000-0xFFFFF, or the first KiB of the EBDA; its
 * configuration table "PCMP" lists processors, buses, I/O APICs and interrupt routes.
 * ACPI: "RSD PTR " in the first KiB of the EBDA or 0xE0000-0xFFFFF, its RSDT, and the MADT
 * ("APIC") among the RSDT's tables.
 *
 * Where a firmware keeps its tables and what else it lists (PCI routes, FADT, OEM strings)
 * is its own business: only what any PC's tables say is printed. */
#include "hw.h"

struct platform plat;
uint32_t ioapic_base;

static bool sum_ok(uint32_t a, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++) s = (uint8_t)(s + peek8(a + i));
    return s == 0;
}

static bool sig_at(uint32_t a, const char *sig, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (peek8(a + i) != (uint8_t)sig[i]) return false;
    return true;
}

/* The MP floating pointer in [from, from + len), or 0. */
static uint32_t mp_scan(uint32_t from, uint32_t len)
{
    for (uint32_t a = from; a + 16 <= from + len; a += 16)
        if (sig_at(a, "_MP_", 4) && peek8(a + 8) == 1 && sum_ok(a, 16) &&
            (peek8(a + 9) == 1 || peek8(a + 9) == 4))
            return a;
    return 0;
}

static uint32_t ebda_base(void) { return (uint32_t)peek16(0x40e) << 4; }

static void mp_tables(void)
{
    uint32_t base_kib = peek16(0x413);
    uint32_t fp = mp_scan(0, 0x400);
    if (!fp) fp = mp_scan(base_kib * 1024 - 1024, 1024);
    if (!fp) fp = mp_scan(0xf0000, 0x10000);
    if (!fp && ebda_base()) fp = mp_scan(ebda_base(), 1024);
    if (!fp) { kprintf("mp: no floating pointer\n"); return; }
    plat.mp_found = true;
    uint8_t f1 = peek8(fp + 11), f2 = peek8(fp + 12);
    kprintf("mp: floating pointer: spec 1.%u, feature 1 %x (%s), IMCR %s\n", peek8(fp + 9), f1,
            f1 ? "a default configuration" : "a table follows", (f2 & 0x80) ? "present" : "absent");
    uint32_t ct = peek32(fp + 4);
    if (f1 || !ct || !sig_at(ct, "PCMP", 4)) { kprintf("mp: no configuration table\n"); return; }
    uint16_t len = peek16(ct + 4), count = peek16(ct + 34);
    kprintf("mp: table: spec 1.%u, checksum %s, local APIC at %08x\n", peek8(ct + 6),
            sum_ok(ct, len) ? "ok" : "bad", peek32(ct + 36));

    unsigned cpus = 0, enabled = 0, bsp = 0xff, isa_bus = 0xff, ioapics = 0, usable = 0;
    uint32_t io_addr = 0;
    uint8_t io_id = 0xff;
    int isa_route[16];
    uint16_t isa_flags[16];
    int lint_extint = -1, lint_nmi = -1;
    unsigned bad_len = 0;
    for (int i = 0; i < 16; i++) { isa_route[i] = -1; isa_flags[i] = 0; }

    /* First pass: processors, buses, I/O APICs (routes name buses and APICs by id). */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t e = ct + 44;
        for (unsigned i = 0; i < count && e < ct + len; i++) {
            uint8_t type = peek8(e);
            if (type == 0) {
                if (pass == 0) {
                    cpus++;
                    if (peek8(e + 3) & 1) {
                        if (enabled < 8) plat.cpu_apic_id[enabled] = peek8(e + 1);
                        enabled++;
                    }
                    if (peek8(e + 3) & 2) bsp = peek8(e + 1);
                }
                e += 20;
                continue;
            }
            if (type > 4) { bad_len++; break; }
            if (pass == 0 && type == 1 && sig_at(e + 2, "ISA", 3)) isa_bus = peek8(e + 1);
            if (pass == 0 && type == 2) {
                ioapics++;
                if (peek8(e + 3) & 1) { usable++; io_addr = peek32(e + 4); io_id = peek8(e + 1); }
            }
            if (pass == 1 && type == 3 && peek8(e + 1) == 0 && peek8(e + 4) == isa_bus &&
                peek8(e + 5) < 16 && (peek8(e + 6) == io_id || peek8(e + 6) == 0xff)) {
                isa_route[peek8(e + 5)] = peek8(e + 7);
                isa_flags[peek8(e + 5)] = peek16(e + 2);
            }
            if (pass == 1 && type == 4) {
                if (peek8(e + 1) == 3) lint_extint = peek8(e + 7);
                if (peek8(e + 1) == 1) lint_nmi = peek8(e + 7);
            }
            e += 8;
        }
    }
    kprintf("mp: %u processor(s), %u enabled, boot processor APIC ID %u\n", cpus, enabled, bsp);
    kprintf("mp: ISA bus %s; %u I/O APIC(s), %u usable, at %08x\n", isa_bus != 0xff ? "listed" : "missing",
            ioapics, usable, io_addr);
    expect(!bad_len, "mp: every entry has a known type");
    kprintf("mp: ISA IRQ -> INTIN:");
    static const uint8_t shown[] = { 0, 1, 3, 4, 6, 8, 12, 13, 14 };
    for (unsigned i = 0; i < sizeof shown; i++) {
        int r = isa_route[shown[i]];
        if (r < 0) kprintf(" %u->none", shown[i]);
        else kprintf(" %u->%u", shown[i], (unsigned)r);
    }
    kprintf("\n");
    kprintf("mp: IRQ0 flags %x, IRQ4 flags %x (0: as the bus says)\n", isa_flags[0], isa_flags[4]);
    kprintf("mp: local interrupts: ExtINT -> LINT%d, NMI -> LINT%d\n", lint_extint, lint_nmi);
    if (!plat.ioapic_addr) { plat.ioapic_addr = io_addr; plat.ioapic_id = io_id; }
    if (!plat.lapic_addr) plat.lapic_addr = peek32(ct + 36);
    if (!plat.ncpus) plat.ncpus = (uint8_t)enabled;
    for (int i = 0; i < 16; i++) if (isa_route[i] >= 0) plat.irq_pin[i] = (uint8_t)isa_route[i];
}

/* "RSD PTR " with a good checksum in [from, from + len), or 0. */
static uint32_t rsdp_scan(uint32_t from, uint32_t len)
{
    for (uint32_t a = from; a + 20 <= from + len; a += 16)
        if (sig_at(a, "RSD PTR ", 8) && sum_ok(a, 20)) return a;
    return 0;
}

static void acpi_tables(void)
{
    uint32_t rsdp = ebda_base() ? rsdp_scan(ebda_base(), 1024) : 0;
    if (!rsdp) rsdp = rsdp_scan(0xe0000, 0x20000);
    if (!rsdp) { kprintf("acpi: no RSDP\n"); return; }
    uint8_t rev = peek8(rsdp + 15);
    if (rev >= 2) expect(sum_ok(rsdp, peek32(rsdp + 20)), "acpi: the extended RSDP checksum");
    uint32_t rsdt = peek32(rsdp + 16);
    bool rsdt_ok = sig_at(rsdt, "RSDT", 4) && sum_ok(rsdt, peek32(rsdt + 4));
    kprintf("acpi: RSDP found (revision %u), RSDT %s (revision %u)\n", rev, rsdt_ok ? "valid" : "invalid",
            peek8(rsdt + 8));
    if (!rsdt_ok) return;
    uint32_t n = (peek32(rsdt + 4) - 36) / 4, madt = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = peek32(rsdt + 36 + 4 * i);
        if (sig_at(t, "APIC", 4)) madt = t;
    }
    if (!madt) { kprintf("acpi: no MADT\n"); return; }
    plat.acpi_found = true;
    uint32_t mlen = peek32(madt + 4);
    kprintf("madt: revision %u, checksum %s, local APIC at %08x, flags %x\n", peek8(madt + 8),
            sum_ok(madt, mlen) ? "ok" : "bad",
            peek32(madt + 36), peek32(madt + 40));
    unsigned cpus = 0, enabled = 0, ioapics = 0;
    bool irq0_override = false;
    uint32_t irq0_gsi = 0, io_gsi_base = 0xffffffffu;
    uint16_t irq0_flags = 0;
    int nmi_lint = -1, nmi_proc = -1, nmi_flags = -1;
    bool other_low_isa = false;          /* an override for IRQ 1, 3, 4, 8, 12 or 14 */
    for (uint32_t e = madt + 44; e + 2 <= madt + mlen && peek8(e + 1); e += peek8(e + 1)) {
        switch (peek8(e)) {
        case 0:
            cpus++;
            if (peek32(e + 4) & 1) enabled++;
            break;
        case 1:
            ioapics++;
            plat.ioapic_addr = peek32(e + 4);
            plat.ioapic_id = peek8(e + 2);
            io_gsi_base = peek32(e + 8);
            break;
        case 2: {
            uint8_t src = peek8(e + 3);
            if (peek8(e + 2) == 0 && src == 0) {
                irq0_override = true; irq0_gsi = peek32(e + 4); irq0_flags = peek16(e + 8);
            } else if (src == 1 || src == 3 || src == 4 || src == 8 || src == 12 || src == 14) {
                other_low_isa = true;
            }
            if (src < 16) plat.irq_pin[src] = (uint8_t)peek32(e + 4);
            break;
        }
        case 4:
            nmi_proc = peek8(e + 2); nmi_flags = peek16(e + 3); nmi_lint = peek8(e + 5);
            break;
        }
    }
    kprintf("madt: %u processor(s), %u enabled; %u I/O APIC(s) at %08x, GSI base %u\n", cpus, enabled,
            ioapics, plat.ioapic_addr, io_gsi_base);
    if (irq0_override) kprintf("madt: IRQ0 -> GSI %u, flags %x\n", irq0_gsi, irq0_flags);
    else kprintf("madt: IRQ0 not overridden\n");
    kprintf("madt: overrides for IRQ 1, 3, 4, 8, 12, 14: %s\n", other_low_isa ? "some" : "none");
    kprintf("madt: local APIC NMI: processor %x, flags %x, LINT%d\n", (unsigned)nmi_proc, (unsigned)nmi_flags, nmi_lint);
    plat.lapic_addr = peek32(madt + 36);
    plat.ncpus = (uint8_t)enabled;
}

void firmware_scan(void)
{
    for (int i = 0; i < 16; i++) plat.irq_pin[i] = (uint8_t)i;    /* ISA identity, until told */
    acpi_tables();
    mp_tables();
    uint32_t msr = (uint32_t)rdmsr(0x1b);
    ioapic_base = plat.ioapic_addr ? plat.ioapic_addr : 0xfec00000u;
    kprintf("firmware: tables agree with IA32_APIC_BASE (%08x): %s; I/O APIC ID register %u, tables %u\n",
            msr & 0xfffff000u, plat.lapic_addr == (msr & 0xfffff000u) ? "yes" : "no",
            (ioapic_rd(0) >> 24) & 0xf, plat.ioapic_id);
}

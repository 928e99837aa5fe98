/* The firmware tables, found the way a PC kernel finds them: the BIOS data area, the MP
 * floating pointer and configuration table, the ACPI RSDP, RSDT and MADT. Only what any PC
 * firmware must agree on is printed: signatures, checksums, the local APIC and I/O APIC
 * addresses, IRQ0 reaching I/O APIC pin 2 (GSI 2), COM1 in the BDA, base memory as in the
 * Multiboot info, the tables lying outside the RAM the memory map offers. Where the tables
 * lie, OEM strings, I/O APIC ids and other overrides differ between SeaBIOS and umbra. */
#include "tests/guests/lib/guest.h"
#include "arch/x86/pcfw.h"

struct mbi { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr,
             syms[4], mmap_length, mmap_addr; };
struct __attribute__((packed)) mmap { uint32_t size; uint64_t addr, len; uint32_t type; };

static const struct mbi *mb;

/* Do n bytes at p sum to zero? */
static bool sums_to_zero(uint32_t p, uint32_t n)
{
    uint8_t s = 0;
    for (uint32_t i = 0; i < n; i++) s = (uint8_t)(s + ((const volatile uint8_t *)p)[i]);
    return s == 0;
}

/* A word at a low physical address (laundered so the compiler does not take it for NULL+n). */
static uint16_t rd16(uint32_t a)
{
    __asm__("" : "+r"(a));
    return *(const volatile uint16_t *)a;
}

/* Is [a, a+n) clear of every range the memory map calls available RAM? */
static bool outside_ram(uint32_t a, uint32_t n)
{
    for (uint32_t p = mb->mmap_addr; p < mb->mmap_addr + mb->mmap_length;) {
        const struct mmap *e = (const struct mmap *)p;
        if (e->type == 1 && a < e->addr + e->len && a + n > e->addr) return false;
        p += e->size + 4;
    }
    return true;
}

/* Search [from, to) at 16-byte steps for sig (len bytes) with a valid checksum over sum bytes;
 * 0 if absent. */
static uint32_t scan(uint32_t from, uint32_t to, const char *sig, unsigned len, unsigned sum)
{
    for (uint32_t p = from; p + 16 <= to; p += 16)
        if (!memcmp((const void *)p, sig, len) && sums_to_zero(p, sum)) return p;
    return 0;
}

/* The MP floating pointer by the MP specification's search order. */
static uint32_t find_mp(uint32_t ebda, uint32_t base_kib)
{
    uint32_t p = 0;
    if (ebda) p = scan(ebda, ebda + 1024, "_MP_", 4, 16);
    if (!p) p = scan(base_kib * 1024 - 1024, base_kib * 1024, "_MP_", 4, 16);
    if (!p) p = scan(BIOS_ROM_BASE, BIOS_ROM_END, "_MP_", 4, 16);
    return p;
}

/* The RSDP by ACPI's search order. */
static uint32_t find_rsdp(uint32_t ebda)
{
    uint32_t p = 0;
    if (ebda) p = scan(ebda, ebda + 1024, "RSD PTR ", 8, 20);
    if (!p) p = scan(ACPI_RSDP_LOW, BIOS_ROM_END, "RSD PTR ", 8, 20);
    return p;
}

static void check_mp(uint32_t fp_addr)
{
    check(fp_addr != 0, "MP floating pointer found, checksum valid");
    if (!fp_addr) return;
    const struct mp_floating *fp = (const void *)fp_addr;
    check_eq(fp->length, 1, "MP floating pointer length");
    check(fp->spec_rev == 1 || fp->spec_rev == 4, "MP specification 1.1 or 1.4");
    check_eq(fp->feature[0], 0, "MP configuration table present (no default configuration)");
    const struct mp_config *ct = (const void *)fp->config;
    check_eq(ct->signature, MPCT_SIG, "MP configuration table signature PCMP");
    check(sums_to_zero(fp->config, ct->length), "MP configuration table checksum");
    check(outside_ram(fp_addr, 16) && outside_ram(fp->config, ct->length), "MP tables lie outside available RAM");
    check_eq(ct->lapic, LAPIC_DEFAULT_BASE, "MP local APIC address");
    unsigned cpus = 0, bsp = 0, isa = 0, ioapics = 0, irq0_pin = 99, lint_ext = 0, lint_nmi = 0;
    uint32_t ioapic_addr = 0;
    const uint8_t *e = (const uint8_t *)(ct + 1);
    for (unsigned i = 0; i < ct->entries; i++) {
        if (*e == MP_PROCESSOR) {
            const struct mp_processor *c = (const void *)e;
            cpus += (c->flags & MP_CPU_ENABLED) != 0;
            bsp += (c->flags & MP_CPU_BSP) != 0;
            e += sizeof *c;
            continue;
        }
        if (*e == MP_BUS) isa += !memcmp(((const struct mp_bus *)e)->name, "ISA   ", 6);
        if (*e == MP_IOAPIC && (((const struct mp_ioapic *)e)->flags & MP_IOAPIC_USABLE)) {
            ioapics++;
            ioapic_addr = ((const struct mp_ioapic *)e)->address;
        }
        const struct mp_intr *in = (const void *)e;
        if (*e == MP_IOINT && in->int_type == MP_INT && in->src_irq == 0) irq0_pin = in->dst_pin;
        if (*e == MP_LINT && in->int_type == MP_EXTINT && in->dst_pin == 0) lint_ext++;
        if (*e == MP_LINT && in->int_type == MP_NMI && in->dst_pin == 1) lint_nmi++;
        e += 8;
    }
    check_eq(cpus, 1, "MP: one processor enabled");
    check_eq(bsp, 1, "MP: it is the bootstrap processor");
    check_eq(isa, 1, "MP: an ISA bus");
    check_eq(ioapics, 1, "MP: one usable I/O APIC");
    check_eq(ioapic_addr, IOAPIC_DEFAULT_BASE, "MP: I/O APIC address");
    check_eq(irq0_pin, 2, "MP: ISA IRQ0 reaches I/O APIC pin 2");
    check_eq(lint_ext, 1, "MP: ExtINT on LINT0");
    check_eq(lint_nmi, 1, "MP: NMI on LINT1");
}

/* The MADT's entries: processors, the I/O APIC, the IRQ0 override. */
static void check_madt(const struct acpi_madt *madt)
{
    check_eq(madt->lapic, LAPIC_DEFAULT_BASE, "MADT local APIC address");
    check_eq(madt->flags & MADT_PCAT_COMPAT, MADT_PCAT_COMPAT, "MADT: 8259s present (PCAT_COMPAT)");
    unsigned cpus = 0, ioapics = 0, gsi0 = 99;
    uint32_t ioapic_addr = 0, irq0 = 99;
    const uint8_t *e = (const uint8_t *)(madt + 1), *end = (const uint8_t *)madt + madt->h.length;
    while (e + 2 <= end && e[1] >= 2) {
        if (e[0] == MADT_LAPIC) cpus += (((const struct madt_lapic *)e)->flags & 1) != 0;
        if (e[0] == MADT_IOAPIC) {
            ioapics++;
            ioapic_addr = ((const struct madt_ioapic *)e)->address;
            gsi0 = ((const struct madt_ioapic *)e)->gsi_base;
        }
        if (e[0] == MADT_OVERRIDE && ((const struct madt_override *)e)->source == 0)
            irq0 = ((const struct madt_override *)e)->gsi;
        e += e[1];
    }
    check(e == end, "MADT entries fill the table exactly");
    check_eq(cpus, 1, "MADT: one processor enabled");
    check_eq(ioapics, 1, "MADT: one I/O APIC");
    check_eq(ioapic_addr, IOAPIC_DEFAULT_BASE, "MADT: I/O APIC address");
    check_eq(gsi0, 0, "MADT: I/O APIC from GSI 0");
    check_eq(irq0, 2, "MADT: ISA IRQ0 overridden to GSI 2");
}

static void check_acpi(uint32_t rsdp_addr)
{
    check(rsdp_addr != 0, "RSDP found, checksum valid");
    if (!rsdp_addr) return;
    const struct acpi_rsdp *rsdp = (const void *)rsdp_addr;
    const struct acpi_header *rsdt = (const void *)rsdp->rsdt;
    check_eq(rsdt->signature, ACPI_RSDT_SIG, "RSDT signature");
    check(sums_to_zero(rsdp->rsdt, rsdt->length), "RSDT checksum");
    check(outside_ram(rsdp_addr, 20) && outside_ram(rsdp->rsdt, rsdt->length), "RSDP and RSDT lie outside available RAM");
    const struct acpi_madt *madt = 0;
    unsigned bad = 0;
    for (uint32_t i = 0; i < (rsdt->length - sizeof *rsdt) / 4; i++) {
        uint32_t t = ((const uint32_t *)(rsdt + 1))[i];
        const struct acpi_header *h = (const void *)t;
        bad += !sums_to_zero(t, h->length) || !outside_ram(t, h->length);
        if (h->signature == ACPI_MADT_SIG) madt = (const void *)t;
    }
    check_eq(bad, 0, "every table the RSDT lists: checksum valid, outside available RAM");
    check(madt != 0, "RSDT lists a MADT");
    if (madt) check_madt(madt);
}

int gmain(uint32_t magic, uint32_t mbi_addr)
{
    (void)magic;
    mb = (const struct mbi *)mbi_addr;
    uint32_t base_kib = rd16(BDA_BASE_KIB), ebda = (uint32_t)rd16(BDA_EBDA_SEG) << 4;
    check_eq(rd16(BDA_COM_PORTS), 0x3f8, "BDA: COM1 at 0x3f8");
    check_eq(base_kib, mb->mem_lower, "BDA: base memory in KiB equals Multiboot mem_lower");
    check(ebda >= base_kib * 1024 && ebda < 0xa0000, "BDA: the EBDA lies above base memory, below 640 KiB");
    check(outside_ram(ebda, 1024), "EBDA lies outside available RAM");
    check_mp(find_mp(ebda, base_kib));
    check_acpi(find_rsdp(ebda));

    /* VGA text memory keeps what is written, as RAM does (a character and its attribute at
     * the last cell of the 80x25 screen, then restored). */
    volatile uint16_t *cell = (volatile uint16_t *)(0xb8000 + 2 * (80 * 25 - 1));
    uint16_t was = *cell;
    *cell = 0x1f55;
    check_eq(*cell, 0x1f55, "VGA text memory at 0xb8000 keeps what is written");
    *cell = was;
    return summary("firmware");
}

/* The firmware tables of umbra's PC: what a BIOS leaves for a kernel that looks.
 *
 * One processor (local APIC id 0 at 0xfee00000), the ISA bus, one I/O APIC (id 1 at
 * 0xfec00000, 24 pins) wired as on a PC: ISA IRQ n to pin n, except IRQ0 (the PIT), which
 * reaches pin 2, and the 8259's ExtINT to pin 0 and to LINT0 (the virtual-wire mode a
 * BIOS leaves), NMI to LINT1. The MP tables (MultiProcessor Specification 1.4) and ACPI's
 * MADT describe that same machine; both are built here from one list so they cannot
 * disagree. Layout: the floating pointer in the first KiB of the EBDA (0x9fc00), every
 * other table in the page at 0xf0000; the Multiboot map reserves both ranges. */
#include "supervisor/firmware.h"
#include "supervisor/vm.h"
#include "supervisor/dev/vioapic.h"
#include "supervisor/dev/vlapic.h"
#include "arch/x86/pcfw.h"
#include "lib/string.h"

#define COM1_BASE 0x3f8u
#define COM2_BASE 0x2f8u
/* The tables describe the models as they are: their version registers' values. */
#define IOAPIC_VERSION VIOAPIC_VERSION
#define LAPIC_VERSION_ID VLAPIC_VERSION
#define NO_IRQ 2u                /* ISA IRQ2 is the 8259 cascade: it reaches no pin */

/* Offsets of the tables inside the page at FW_TABLES_BASE. */
enum { OFF_RSDP = 0x000, OFF_RSDT = 0x040, OFF_MADT = 0x080, OFF_MPCT = 0x200 };

/* The byte that makes n bytes at p sum to zero (every table's checksum). */
static uint8_t checksum(const void *p, unsigned n)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (unsigned i = 0; i < n; i++) sum = (uint8_t)(sum + b[i]);
    return (uint8_t)-sum;
}

/* The pin of the I/O APIC an ISA IRQ reaches. */
static unsigned isa_pin(unsigned irq) { return irq == 0 ? 2 : irq; }

/* Fill an ACPI table header; the checksum is set once the table is complete. */
static void acpi_header(struct acpi_header *h, uint32_t sig, uint32_t length, uint8_t rev)
{
    h->signature = sig;
    h->length = length;
    h->revision = rev;
    memcpy(h->oem, "UMBRA ", 6);
    memcpy(h->oem_table, "UMBRAPC ", 8);
    h->oem_revision = 1;
    h->creator = 0x41424d55;       /* "UMBA" */
    h->creator_revision = 1;
}

/* RSDP -> RSDT -> MADT, in the table page. */
static void write_acpi(uint8_t *page)
{
    struct acpi_rsdp *rsdp = (struct acpi_rsdp *)(page + OFF_RSDP);
    rsdp->signature[0] = RSDP_SIG0;
    rsdp->signature[1] = RSDP_SIG1;
    memcpy(rsdp->oem, "UMBRA ", 6);
    rsdp->revision = 0;
    rsdp->rsdt = FW_TABLES_BASE + OFF_RSDT;
    rsdp->checksum = checksum(rsdp, sizeof *rsdp);

    struct acpi_madt *madt = (struct acpi_madt *)(page + OFF_MADT);
    uint8_t *e = (uint8_t *)(madt + 1);
    madt->lapic = LAPIC_DEFAULT_BASE;
    madt->flags = MADT_PCAT_COMPAT;
    struct madt_lapic cpu = { MADT_LAPIC, sizeof cpu, 0, 0, 1 };
    struct madt_ioapic io = { MADT_IOAPIC, sizeof io, FW_IOAPIC_ID, 0, IOAPIC_DEFAULT_BASE, 0 };
    struct madt_override irq0 = { MADT_OVERRIDE, sizeof irq0, 0, 0, isa_pin(0), 0 };
    struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof nmi, 0xff, 0, 1 };
    memcpy(e, &cpu, sizeof cpu);   e += sizeof cpu;
    memcpy(e, &io, sizeof io);     e += sizeof io;
    memcpy(e, &irq0, sizeof irq0); e += sizeof irq0;
    memcpy(e, &nmi, sizeof nmi);   e += sizeof nmi;
    uint32_t madt_len = (uint32_t)(e - (uint8_t *)madt);
    acpi_header(&madt->h, ACPI_MADT_SIG, madt_len, 1);
    madt->h.checksum = checksum(madt, madt_len);

    struct acpi_header *rsdt = (struct acpi_header *)(page + OFF_RSDT);
    uint32_t entry = FW_TABLES_BASE + OFF_MADT;
    acpi_header(rsdt, ACPI_RSDT_SIG, sizeof *rsdt + 4, 1);
    memcpy(rsdt + 1, &entry, 4);
    rsdt->checksum = checksum(rsdt, rsdt->length);
}

/* Append one 8-byte MP entry. */
static uint8_t *mp_put(uint8_t *at, const void *entry, unsigned n, uint16_t *count)
{
    memcpy(at, entry, n);
    (*count)++;
    return at + n;
}

/* The MP configuration table in the table page. */
static void write_mp_config(uint8_t *page)
{
    struct mp_config *ct = (struct mp_config *)(page + OFF_MPCT);
    uint8_t *e = (uint8_t *)(ct + 1);
    uint16_t n = 0;
    struct mp_processor cpu = { MP_PROCESSOR, 0, LAPIC_VERSION_ID, MP_CPU_ENABLED | MP_CPU_BSP, 0x00000600, 0x00000201, { 0, 0 } };
    struct mp_bus isa = { MP_BUS, 0, { 'I', 'S', 'A', ' ', ' ', ' ' } };
    struct mp_ioapic io = { MP_IOAPIC, FW_IOAPIC_ID, IOAPIC_VERSION, MP_IOAPIC_USABLE, IOAPIC_DEFAULT_BASE };
    e = mp_put(e, &cpu, sizeof cpu, &n);
    e = mp_put(e, &isa, sizeof isa, &n);
    e = mp_put(e, &io, sizeof io, &n);
    struct mp_intr ext = { MP_IOINT, MP_EXTINT, 0, 0, 0, FW_IOAPIC_ID, 0 };
    e = mp_put(e, &ext, sizeof ext, &n);
    for (unsigned irq = 0; irq < 16; irq++) {
        if (irq == NO_IRQ) continue;
        struct mp_intr in = { MP_IOINT, MP_INT, 0, 0, (uint8_t)irq, FW_IOAPIC_ID, (uint8_t)isa_pin(irq) };
        e = mp_put(e, &in, sizeof in, &n);
    }
    struct mp_intr lint0 = { MP_LINT, MP_EXTINT, 0, 0, 0, 0xff, 0 };
    struct mp_intr lint1 = { MP_LINT, MP_NMI, 0, 0, 0, 0xff, 1 };
    e = mp_put(e, &lint0, sizeof lint0, &n);
    e = mp_put(e, &lint1, sizeof lint1, &n);
    ct->signature = MPCT_SIG;
    ct->length = (uint16_t)(e - (uint8_t *)ct);
    ct->spec_rev = 4;
    memcpy(ct->oem, "UMBRA   ", 8);
    memcpy(ct->product, "UMBRA PC    ", 12);
    ct->entries = n;
    ct->lapic = LAPIC_DEFAULT_BASE;
    ct->checksum = checksum(ct, ct->length);
}

void firmware_write(struct vm *vm)
{
    /* The BIOS data area, in page 0. */
    uint8_t *bda = vm_gpa(vm, 0);
    memset(bda + 0x400, 0, 0x100);
    uint16_t words[][2] = {
        { BDA_COM_PORTS, COM1_BASE },
        { BDA_COM_PORTS + 2, COM2_BASE },
        { BDA_EBDA_SEG, FW_EBDA_BASE >> 4 },
        { BDA_EQUIPMENT, EQUIP_FPU | EQUIP_VIDEO_80 | EQUIP_SERIAL(2) },
        { BDA_BASE_KIB, FW_BASE_KIB },
    };
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++) memcpy(bda + words[i][0], &words[i][1], 2);

    /* The EBDA: its size in KiB in its first byte, then the MP floating pointer. */
    uint8_t *ebda = vm_gpa(vm, FW_EBDA_BASE);
    memset(ebda, 0, 0x400);
    ebda[0] = 1;
    struct mp_floating *fp = (struct mp_floating *)(ebda + 0x10);
    fp->signature = MPFP_SIG;
    fp->config = FW_TABLES_BASE + OFF_MPCT;
    fp->length = 1;
    fp->spec_rev = 4;
    fp->checksum = checksum(fp, sizeof *fp);

    uint8_t *page = vm_gpa(vm, FW_TABLES_BASE);
    memset(page, 0, PAGE_SIZE);
    write_acpi(page);
    write_mp_config(page);
}

/* The PC firmware's tables as the specifications lay them out: the BIOS data area, the
 * MultiProcessor Specification 1.4 tables and the ACPI RSDP, table header and MADT. */
#ifndef ARCH_X86_PCFW_H
#define ARCH_X86_PCFW_H
#include <stdint.h>

/* BIOS data area (segment 0x40): the words a kernel reads. */
#define BDA_COM_PORTS   0x400u   /* four words: COM1-COM4 base ports, 0 when absent */
#define BDA_LPT_PORTS   0x408u   /* three words: LPT1-LPT3 */
#define BDA_EBDA_SEG    0x40eu   /* word: the extended BIOS data area's segment */
#define BDA_EQUIPMENT   0x410u   /* word: the equipment list */
#define BDA_BASE_KIB    0x413u   /* word: conventional memory in KiB (below the EBDA) */
#define EQUIP_FPU       (1u << 1)
#define EQUIP_VIDEO_80  (2u << 4)   /* initial video mode 80x25 colour */
#define EQUIP_SERIAL(n) ((uint32_t)(n) << 9)

/* Where a kernel searches, in this order, for the MP floating pointer (16-byte aligned):
 * the first KiB of the EBDA, the last KiB of base memory, the BIOS ROM 0xf0000-0xfffff.
 * The ACPI RSDP: the first KiB of the EBDA, then 0xe0000-0xfffff. */
#define BIOS_ROM_BASE   0xf0000u
#define BIOS_ROM_END    0x100000u
#define ACPI_RSDP_LOW   0xe0000u

#define MPFP_SIG  0x5f504d5fu    /* "_MP_" */
#define MPCT_SIG  0x504d4350u    /* "PCMP" */

struct __attribute__((packed)) mp_floating {
    uint32_t signature;
    uint32_t config;             /* physical address of the configuration table */
    uint8_t length;              /* in 16-byte units: 1 */
    uint8_t spec_rev;            /* 4 for version 1.4 */
    uint8_t checksum;
    uint8_t feature[5];          /* feature[0] 0: a configuration table is present */
};

struct __attribute__((packed)) mp_config {
    uint32_t signature;
    uint16_t length;             /* base table, header included */
    uint8_t spec_rev;
    uint8_t checksum;
    char oem[8];
    char product[12];
    uint32_t oem_table;
    uint16_t oem_table_size;
    uint16_t entries;
    uint32_t lapic;              /* the local APIC's physical address */
    uint16_t ext_length;
    uint8_t ext_checksum;
    uint8_t reserved;
};

enum mp_entry_type { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINT = 3, MP_LINT = 4 };
enum mp_int_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };

struct __attribute__((packed)) mp_processor {   /* 20 bytes */
    uint8_t type, lapic_id, lapic_version, flags;  /* flags: 1 enabled, 2 bootstrap */
    uint32_t signature, features;
    uint32_t reserved[2];
};
struct __attribute__((packed)) mp_bus {         /* 8 bytes */
    uint8_t type, id;
    char name[6];
};
struct __attribute__((packed)) mp_ioapic {      /* 8 bytes */
    uint8_t type, id, version, flags;             /* flags: 1 usable */
    uint32_t address;
};
struct __attribute__((packed)) mp_intr {        /* 8 bytes: I/O and local interrupt entries */
    uint8_t type, int_type;
    uint16_t flags;              /* polarity and trigger; 0: as the bus defines */
    uint8_t src_bus, src_irq;
    uint8_t dst_id, dst_pin;     /* IOAPIC id and INTIN#, or local APIC id (0xff all) and LINTIN# */
};

#define MP_CPU_ENABLED 1u
#define MP_CPU_BSP     2u
#define MP_IOAPIC_USABLE 1u

#define RSDP_SIG0 0x20445352u    /* "RSD " */
#define RSDP_SIG1 0x20525450u    /* "PTR " */
#define ACPI_RSDT_SIG 0x54445352u  /* "RSDT" */
#define ACPI_MADT_SIG 0x43495041u  /* "APIC" */

struct __attribute__((packed)) acpi_rsdp {      /* revision 0: 20 bytes */
    uint32_t signature[2];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
};

struct __attribute__((packed)) acpi_header {    /* 36 bytes, every table starts with it */
    uint32_t signature;
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem[6];
    char oem_table[8];
    uint32_t oem_revision;
    uint32_t creator;
    uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_madt {
    struct acpi_header h;
    uint32_t lapic;
    uint32_t flags;              /* MADT_PCAT_COMPAT: 8259s present as well */
};
#define MADT_PCAT_COMPAT 1u

enum madt_type { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_OVERRIDE = 2, MADT_LAPIC_NMI = 4 };

struct __attribute__((packed)) madt_lapic {     /* 8 bytes */
    uint8_t type, length, processor, apic_id;
    uint32_t flags;              /* 1 enabled */
};
struct __attribute__((packed)) madt_ioapic {    /* 12 bytes */
    uint8_t type, length, id, reserved;
    uint32_t address, gsi_base;
};
struct __attribute__((packed)) madt_override {  /* 10 bytes */
    uint8_t type, length, bus, source;
    uint32_t gsi;
    uint16_t flags;
};
struct __attribute__((packed)) madt_lapic_nmi { /* 6 bytes */
    uint8_t type, length, processor;
    uint16_t flags;
    uint8_t lint;
};

#define LAPIC_DEFAULT_BASE  0xfee00000u
#define IOAPIC_DEFAULT_BASE 0xfec00000u

#endif

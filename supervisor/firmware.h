/* The tables a PC's firmware leaves in memory, written into a guest before it starts. */
#ifndef SUPERVISOR_FIRMWARE_H
#define SUPERVISOR_FIRMWARE_H
#include <stdint.h>

struct vm;

/* Where the tables lie in guest-physical memory (the Multiboot memory map reserves both). */
#define FW_EBDA_BASE   0x9fc00u          /* the extended BIOS data area, 1 KiB */
#define FW_BASE_KIB    (FW_EBDA_BASE >> 10)
#define FW_TABLES_BASE 0xf0000u          /* RSDP, RSDT, MADT, MP configuration table */
#define FW_IOAPIC_ID   0u     /* the IOAPIC model's ID register after reset, as on QEMU's PC */

/* Write the BIOS data area, the EBDA with the MP floating pointer, the MP configuration
 * table and the ACPI RSDP, RSDT and MADT into the VM's memory (below 1 MiB). */
void firmware_write(struct vm *vm);

#endif

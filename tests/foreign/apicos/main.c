/* apicos: a kernel that leaves the 8259 for the local APIC and the I/O APIC the way an SMP
 * kernel does on a PC, and checks each step. Output: COM1; status: port 0xf4 (0 = all good).
 *
 * Order: find the tables (MP, ACPI MADT), remap and mask the 8259s, bring up the local APIC,
 * IPIs to itself and the TPR, the APIC timer against the PIT, the I/O APIC with the PIT and
 * COM1, the 8259 through LINT0 once more, and last a search for other CPUs with INIT and
 * start-up IPIs (a one-CPU machine: none answers). */
#include "hw.h"

uint32_t kernel_main(uint32_t magic, uint32_t mbi);
uint32_t kernel_main(uint32_t magic, uint32_t mbi)
{
    (void)mbi;
    idt_init();
    kprintf("apicos: booted by a Multiboot loader: %s\n", magic == 0x2BADB002 ? "yes" : "no");
    firmware_scan();
    pic_disable();
    lapic_setup();
    ipi_tests();
    timer_tests();
    ioapic_tests();
    extint_tests();
    smp_probe();
    uint32_t strays = 0;
    for (unsigned v = 0x20; v < 0x30; v++) if (v != 0x20) strays += vcount[v];
    kprintf("apicos: stray 8259 vectors %u, spurious APIC vector %u\n", strays, vcount[0xff]);
    expect(strays == 0, "no stray 8259 interrupt");
    kprintf("apicos: %u failure(s)%s%s\n", failures, failures ? ", the first: " : "", first_failure);
    return failures ? 1 : 0;
}

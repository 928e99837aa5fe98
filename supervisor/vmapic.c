/* A VM's interrupt controllers beyond the 8259: its local APIC and IOAPIC as the monitor
 * reaches them (MMIO forwarded on the ring), the ISA lines that feed them, and the questions
 * the scheduler asks before it enters the monitor: is an interrupt waiting for the CPU, has an
 * NMI come? */
#include "supervisor/vmdev.h"
#include "supervisor/vm.h"
#include "supervisor/clock.h"
#include "arch/x86/apic.h"
#include "arch/x86/mmu.h"

/* The LAPIC's EOI of a level-triggered vector reaches the IOAPIC (remote IRR). */
static void eoi_to_ioapic(void *ctx, uint8_t vector)
{
    vioapic_eoi(ctx, vector);
}

void vmdev_apic_init(struct vm *vm)
{
    struct vmdev *d = &vm->dev;
    d->lapic.eoi_level = eoi_to_ioapic;
    d->lapic.eoi_ctx = &d->ioapic;
    vlapic_init(&d->lapic);
    vioapic_init(&d->ioapic, &d->lapic);
    d->wire = (struct irqwire){ &d->pic, &d->ioapic, &d->lapic };
}

bool vmdev_pending(struct vm *vm)
{
    return cpu_irq_pending(&vm->dev.wire);
}

bool vmdev_take_nmi(struct vm *vm)
{
    return vlapic_take_nmi(&vm->dev.lapic);
}

bool vmdev_nmi_armed(struct vm *vm)
{
    return cpu_nmi_armed(&vm->dev.wire);
}

void vmdev_set_irq(struct vm *vm, unsigned irq, bool level)
{
    irq_line(&vm->dev.wire, irq, level);
}

uint32_t vmdev_mmio_read(struct vm *vm, uint32_t gpa, unsigned size)
{
    uint32_t page = gpa & ~(PAGE_SIZE - 1), off = gpa & (PAGE_SIZE - 1);
    vm->dev.mmio_reads++;
    if (page == LAPIC_BASE) return vlapic_read(&vm->dev.lapic, off, size, clock_ns());
    if (page == IOAPIC_BASE) return vioapic_read(&vm->dev.ioapic, off, size);
    return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

void vmdev_mmio_write(struct vm *vm, uint32_t gpa, unsigned size, uint32_t value)
{
    uint32_t page = gpa & ~(PAGE_SIZE - 1), off = gpa & (PAGE_SIZE - 1);
    vm->dev.mmio_writes++;
    if (page == LAPIC_BASE) vlapic_write(&vm->dev.lapic, off, size, value, clock_ns());
    else if (page == IOAPIC_BASE) vioapic_write(&vm->dev.ioapic, off, size, value);
}

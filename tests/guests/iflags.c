/* The interrupt flag: PUSHF inside and outside CLI, IRET restoring IF both ways, no
 * interrupt while IF is clear, the STI shadow, trap versus interrupt gates, single step. */
#include "tests/guests/lib/guest.h"

static volatile uint32_t ticks, if_in_handler, tick_after_sti;
static volatile uint32_t steps;
extern char sti_at[], after_sti[];

static void tick(struct gframe *f)
{
    ticks++;
    if_in_handler = eflags() & 0x200;
    if (f->eip == (uint32_t)after_sti) tick_after_sti++;
    pic_mask(0xffff);          /* exactly one tick, however slow the machine */
    pic_eoi(0);
}

static void step(struct gframe *f)
{
    steps++;
    if (steps >= 3) f->eflags &= ~0x100u;      /* stop stepping */
}

static volatile uint32_t in_trap_gate_if;
static void trap_gate(struct gframe *f) { (void)f; in_trap_gate_if = eflags() & 0x200; }

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    check_eq(eflags() & 0x200, 0, "IF clear at entry");
    /* The firmware may have left its timer running on IRQ0 (vector 8 on a BIOS's PIC): mask
     * everything before the first STI, or a tick lands on the double-fault vector. */
    pic_init();
    pic_mask(0xffff);
    __asm__ volatile("sti");
    check_eq(eflags() & 0x200, 0x200, "PUSHF after STI");
    __asm__ volatile("cli");
    check_eq(eflags() & 0x200, 0, "PUSHF after CLI");

    /* IRET restores IF from the frame, both ways. (The frame names the kernel code segment
     * by its constant, as kernels do: in umbra `push %cs` would push RPL 3, see docs.) */
    uint32_t f;
    __asm__ volatile("pushf; orl $0x200, (%%esp); pushl $0x08; push $1f; iret; 1: pushf; pop %0; cli" : "=r"(f));
    check_eq(f & 0x200, 0x200, "IRET sets IF");
    __asm__ volatile("sti; pushf; andl $~0x200, (%%esp); pushl $0x08; push $1f; iret; 1: pushf; pop %0" : "=r"(f));
    check_eq(f & 0x200, 0, "IRET clears IF");

    /* Trap gates keep IF, interrupt gates clear it. */
    set_handler(0x40, trap_gate, 0, true);
    __asm__ volatile("sti; int $0x40; cli");
    check_eq(in_trap_gate_if, 0x200, "trap gate keeps IF");
    set_handler(0x41, trap_gate, 0, false);
    __asm__ volatile("sti; int $0x41; cli");
    check_eq(in_trap_gate_if, 0, "interrupt gate clears IF");

    /* A timer interrupt waits while IF is clear and comes right after STI's shadow. */
    set_handler(0x20, tick, 0, false);
    pit_periodic(1000);
    pic_mask(0xfffe);
    /* Spin with IF clear until the PIC holds a request (poll the IRR). */
    for (int i = 0; i < 1000000; i++) { outb(0x20, 0x0a); if (inb(0x20) & 1) break; }
    check_eq(ticks, 0, "no interrupt while IF is clear");
    __asm__ volatile("sti_at: sti; after_sti: nop; nop; cli");
    check_eq(ticks, 1, "the waiting interrupt arrives after STI");
    check_eq(tick_after_sti, 0, "not inside STI's shadow");
    check_eq(if_in_handler, 0, "IF clear in the handler (interrupt gate)");
    pic_mask(0xffff);

    /* Single step: TF set by POPF traps after each instruction. */
    set_handler(1, step, 0, false);
    __asm__ volatile("pushf; orl $0x100, (%%esp); popf; nop; nop; nop; nop" ::: "memory");
    check_eq(steps, 3, "three single-step traps");
    return summary("iflags");
}

/* umbra's entry from boot/entry.asm: bring the host up, then run the guests. */
#include "boot/multiboot.h"
#include "arch/x86/cpu.h"
#include "arch/x86/gdt.h"
#include "arch/x86/regs.h"
#include "arch/x86/trap.h"
#include "drivers/pic.h"
#include "drivers/pit.h"
#include "drivers/serial.h"
#include "supervisor/bootinfo.h"
#include "supervisor/config.h"
#include "supervisor/hostmap.h"
#include "supervisor/log.h"
#include "supervisor/memory.h"
#include "supervisor/sched.h"
#include "supervisor/clock.h"
#include "supervisor/watchdog.h"

#define UMBRA_VERSION "0.1"

void kmain(uint32_t magic, uint32_t mbi);

/* testfault=: provoke the fault the command line asked for, to show the report works. */
static void test_fault(void)
{
    volatile uint32_t zero = 0;
    switch (config.testfault) {
    case TESTFAULT_NONE: return;
    case TESTFAULT_UD: kprintf("umbra: testfault: executing UD2\n"); __asm__ volatile("ud2"); break;
    case TESTFAULT_PF: kprintf("umbra: testfault: writing to an unmapped page\n");
        *(volatile uint32_t *)0xdead0000u = 1; break;
    case TESTFAULT_GP: kprintf("umbra: testfault: loading a bad selector\n");
        __asm__ volatile("mov %0, %%ds" :: "r"(0xfff8u)); break;
    case TESTFAULT_DE: kprintf("umbra: testfault: dividing by zero\n");
        __asm__ volatile("divl %0" :: "r"(zero), "a"(1), "d"(0)); break;
    case TESTFAULT_PANIC: panic("testfault: a deliberate panic");
    case TESTFAULT_SPURIOUS:
        kprintf("umbra: testfault: acknowledging IRQ0 while the PIT holds it low: %u spurious interrupt(s)\n",
                pic_provoke_spurious(100));
        break;
    }
}

void kmain(uint32_t magic, uint32_t mbi)
{
    const char *cmdline = "";
    if (magic == MB_BOOT_MAGIC && (((const struct mb_info *)mbi)->flags & MB_INFO_CMDLINE))
        cmdline = (const char *)((const struct mb_info *)mbi)->cmdline;
    log_set_sinks(config_sinks(cmdline));
    kprintf("umbra " UMBRA_VERSION ": a bare-metal x86 hypervisor\n");
    if (magic != MB_BOOT_MAGIC) {
        log_set_sinks(LOG_COM1 | LOG_VGA);
        kprintf("umbra: not started by a Multiboot loader (EAX %08x, expected %08x); stopping\n",
                magic, MB_BOOT_MAGIC);
        cpu_halt_forever();
    }
    config_parse(cmdline);
    gdt_init();
    idt_init();
    cpu_detect();
    cpu_report();
    if (!cpu.pae)
        panic("this CPU has no PAE; umbra runs its shadow page tables in PAE format and cannot go on");

    if (cpu.fxsr) write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    if (cpu.umip) write_cr4(read_cr4() | CR4_UMIP);   /* SGDT and friends trap at CPL3 */
    bootinfo_read(mbi);
    memory_init();
    hostmap_init();
    memory_report("");
    kprintf("boot: %u module%s%s\n", (unsigned)boot.nmods, boot.nmods == 1 ? "" : "s",
            boot.mods_dropped ? " (too many: the rest are ignored)" : "");

    pic_init();
    pit_init(config.tick_hz);   /* 1 kHz unless testtick= says otherwise */
    __asm__ volatile("sti");
    clock_init();
    watchdog_init();
    test_fault();

    uint8_t status = UMBRA_EXIT_OK;
    serial_init(COM1_PORT);          /* the guests' console, whatever the log uses */
    if (vms_launch()) status = vms_run();
    if (pic_spurious) kprintf("pic: %u spurious interrupts (IRQ 7/15 with nothing in service), ignored\n", pic_spurious);
    memory_report(" at the end");
    if (memory_audit()) panic("frame audit failed");
    kprintf("umbra: nothing left to run\n");
    if (vms_last_reset) umbra_exit_reset();
    umbra_exit(status);
}

/* The demo guest for `make run`: says hello, takes timer interrupts, runs a user task that
 * prints through system calls, and exits with status 0. */
#include "tests/guests/lib/guest.h"

static volatile uint32_t ticks;

static void tick(struct gframe *f) { (void)f; ticks++; pic_eoi(0); }

/* INT 0x80: EAX = pointer to a string to print (the user task's only system call). */
static void sys_print(struct gframe *f) { gprintf("%s", (const char *)f->eax); }

static void user_print(const char *s) { __asm__ volatile("int $0x80" :: "a"(s) : "memory"); }

/* The user task: a few lines, each after waiting for some timer ticks. */
static void task(void)
{
    static const char *const lines[] = {
        "  user task: hello from ring 3 of the guest (ring 3 of the CPU, as is everything here)\n",
        "  user task: each line is an INT 0x80 system call into the guest kernel\n",
        "  user task: which umbra's monitor reflects through the guest's own IDT\n",
    };
    for (unsigned i = 0; i < 3; i++) {
        user_print(lines[i]);
        for (volatile uint32_t spin = 0; spin < 200000; spin++) ;
    }
    RING0_RETURN();
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    gprintf("\ndemo: a 32-bit guest kernel, booted by Multiboot\n");
    tables_init();
    set_handler(0x20, tick, 0, false);
    set_handler(0x80, sys_print, 3, false);
    pic_init();
    pit_periodic(100);
    pic_mask(0xfffe);
    __asm__ volatile("sti");
    for (unsigned second = 1; second <= 3; second++) {
        while (ticks < second * 100) __asm__ volatile("hlt");
        gprintf("demo: %u timer interrupts so far (100 Hz, the guest's own 8254 and 8259)\n", ticks);
    }
    __asm__ volatile("cli");
    gprintf("demo: starting a user task\n");
    run_user(task);
    gprintf("demo: the user task is done; goodbye\n");
    return 0;
}

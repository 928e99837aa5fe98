/* The demo guest for `make run`: says hello, takes timer interrupts, runs a user task that
 * prints through system calls, then turns paging on and runs two user tasks in two address
 * spaces that switch through a system call (umbra's shadow roots, found again by CR3), and
 * exits with status 0. */
#include "tests/guests/lib/guest.h"
#include "tests/guests/lib/paging.h"

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

/* ---- act two: two address spaces ---- */

#define PRIVATE 0x40000000u          /* each task's own page, at the same address in both */
#define ROUNDS 4
static uint32_t *space[2];
static struct gframe saved[2];
static unsigned current;
static uint8_t stacks[2][4096] __attribute__((aligned(16)));

/* INT 0x82 from a task: save it, switch CR3 to the other task's space, resume that one. */
static void sys_yield(struct gframe *f)
{
    saved[current] = *f;
    current ^= 1;
    wr_cr3((uint32_t)space[current]);
    *f = saved[current];
}

/* Both tasks run this code; only what their address space maps at PRIVATE differs. */
static void space_task(void)
{
    for (unsigned round = 1; round <= ROUNDS; round++) {
        char *line = (char *)PRIVATE;
        line[25] = (char)('0' + round);             /* the "_" of "round _", in its own page */
        user_print(line);
        __asm__ volatile("int $0x82" ::: "memory");
    }
    RING0_RETURN();
}

static void two_spaces(void)
{
    static const char *const text[2] = {
        "  task A (CR3 #1): round _ - my page at 0x40000000 says A\n",
        "  task B (CR3 #2): round _ - my page at 0x40000000 says B\n",
    };
    pg_frames(0x400000, 0x1000000);
    for (unsigned t = 0; t < 2; t++) {
        space[t] = pg_dir();
        pg_identity(space[t], 0x1000000, PTE_P | PTE_W | PTE_U);
        uint32_t page = pg_frame();
        for (unsigned i = 0; text[t][i]; i++) ((char *)page)[i] = text[t][i];
        pg_map(space[t], PRIVATE, page, PTE_P | PTE_W | PTE_U);
    }
    set_handler(0x82, sys_yield, 3, false);
    gprintf("demo: paging on: two user tasks, two address spaces, one page address (0x40000000),\n"
            "demo: switching at every system call; umbra keeps a shadow root for each CR3\n");
    pg_enable(space[0]);
    /* Task B starts where task A did, on its own stack, the first time A yields. */
    saved[1] = (struct gframe){ .eip = (uint32_t)space_task, .cs = UCS, .eflags = 0x202,
                                .esp = (uint32_t)&stacks[1][4096], .ss = UDS, .ds = UDS, .es = UDS };
    run_user(space_task);
    gprintf("demo: task A finished its rounds\n");
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
    gprintf("demo: the user task is done\n");
    two_spaces();
    gprintf("demo: goodbye\n");
    return 0;
}

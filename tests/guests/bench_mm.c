/* The benchmark guest for address-space work, the way a small Unix kernel does it: fork (copy
 * an address space), exec (build one, use it, destroy it) and a context-switch ping-pong between
 * two user tasks in their own address spaces. Same command line and output as bench.c
 * (lib/bench.h); each workload checks its results and ends the guest with status 1 if one is
 * wrong, so a fast wrong answer never becomes a figure.
 *
 * Memory: 0-16 MiB identity mapped by four kernel page tables that every address space shares
 * (user-accessible, so the user tasks run the kernel image's code); the frames of address
 * spaces (directories, user tables, user pages) come from a free list over 8-16 MiB and are
 * reached through the identity map, as a kernel reaches physical memory. Every address space
 * has one user table, for 0x40000000-0x403fffff. */
#include "tests/guests/lib/bench.h"

#define USER_BASE   0x40000000u
#define USER_PDE    (USER_BASE >> 22)
#define PTE_P       1u
#define PTE_UWP     7u                      /* present, writable, user */
#define FORK_PAGES  64                      /* the parent's size; a fork copies all of it */
#define EXEC_PAGES  8                       /* an exec'd image: 2 pages of text, 6 of data */
#define FRAMES_LO   0x800000u
#define FRAMES_HI   0x1000000u

static uint32_t kpd[1024] __attribute__((aligned(4096)));       /* the kernel's own space */
static uint32_t kpts[4][1024] __attribute__((aligned(4096)));   /* 0-16 MiB, shared by all */
static uint32_t free_frames[(FRAMES_HI - FRAMES_LO) >> 12];
static unsigned nfree;
static uint32_t *parent;                                        /* the address space fork copies */

/* A free frame's address (the identity map makes it a pointer too). */
static uint32_t frame_get(void)
{
    if (!nfree) bench_fail("frames", "out of frames");
    return free_frames[--nfree];
}

/* Give a frame back. */
static void frame_put(uint32_t f) { free_frames[nfree++] = f; }

/* Store words one at a time (never a string instruction: a page-table write must stay a MOV
 * that a monitor can emulate). */
static void page_fill(uint32_t page, uint32_t v)
{
    volatile uint32_t *p = (volatile uint32_t *)page;
    for (unsigned i = 0; i < 1024; i++) p[i] = v;
}

/* Copy a page word by word. */
static void page_copy(uint32_t to, uint32_t from)
{
    volatile uint32_t *d = (volatile uint32_t *)to;
    const volatile uint32_t *s = (const volatile uint32_t *)from;
    for (unsigned i = 0; i < 1024; i++) d[i] = s[i];
}

/* The user table of an address space. */
static volatile uint32_t *user_table(uint32_t *pd) { return (volatile uint32_t *)(pd[USER_PDE] & ~0xfffu); }

/* A new address space: a zeroed directory sharing the kernel's tables, an empty user table. */
static uint32_t *space_new(void)
{
    uint32_t *pd = (uint32_t *)frame_get(), pt = frame_get();
    page_fill((uint32_t)pd, 0);
    page_fill(pt, 0);
    for (unsigned t = 0; t < 4; t++) pd[t] = (uint32_t)kpts[t] | PTE_UWP;
    pd[USER_PDE] = pt | PTE_UWP;
    return pd;
}

/* Map a fresh frame at user page i of pd; returns the frame. */
static uint32_t space_map(uint32_t *pd, unsigned i)
{
    uint32_t f = frame_get();
    user_table(pd)[i] = f | PTE_UWP;
    return f;
}

/* Destroy an address space that is not the current one: clear its user entries (as an exit
 * does), free its pages, its user table and its directory. */
static void space_free(uint32_t *pd)
{
    volatile uint32_t *pt = user_table(pd);
    for (unsigned i = 0; i < 1024; i++)
        if (pt[i] & PTE_P) { frame_put(pt[i] & ~0xfffu); pt[i] = 0; }
    pd[USER_PDE] = 0;
    frame_put((uint32_t)pt);
    frame_put((uint32_t)pd);
}

/* The word a parent's page i holds at word w. */
static uint32_t pattern(unsigned i, unsigned w) { return i * 0x10001u ^ w * 0x9e3779b9u; }

/* Kernel tables, the kernel's space, the frame list and the parent (FORK_PAGES filled pages). */
static void setup(void)
{
    for (unsigned t = 0; t < 4; t++) {
        for (unsigned i = 0; i < 1024; i++) kpts[t][i] = (t * 1024 + i) << 12 | PTE_UWP;
        kpd[t] = (uint32_t)kpts[t] | PTE_UWP;
    }
    for (uint32_t f = FRAMES_HI; f > FRAMES_LO;) free_frames[nfree++] = f -= 4096;
    wr_cr3((uint32_t)kpd);
    wr_cr0(rd_cr0() | 0x80000000u);
    parent = space_new();
    for (unsigned i = 0; i < FORK_PAGES; i++) {
        volatile uint32_t *p = (volatile uint32_t *)space_map(parent, i);
        for (unsigned w = 0; w < 1024; w++) p[w] = pattern(i, w);
    }
    wr_cr3((uint32_t)parent);
}

/* fork, n/50 times: copy the parent's FORK_PAGES pages into a new address space, switch to it
 * and write to every page, switch back, destroy it. */
static void bench_fork(void)
{
    unsigned reps = n / 50;
    uint64_t t = rdtsc();
    for (unsigned r = 0; r < reps; r++) {
        uint32_t *child = space_new();
        for (unsigned i = 0; i < FORK_PAGES; i++) page_copy(space_map(child, i), USER_BASE + i * 4096);
        wr_cr3((uint32_t)child);
        volatile uint32_t *u = (volatile uint32_t *)USER_BASE;
        for (unsigned i = 0; i < FORK_PAGES; i++) u[i * 1024 + (i & 1023)] = ~r;
        for (unsigned i = 0; i < FORK_PAGES; i++)
            if (u[i * 1024 + 1023 - (i & 511)] != pattern(i, 1023 - (i & 511)) || u[i * 1024 + i] != ~r)
                bench_fail("fork", "the child's pages are not the parent's copy with its own writes");
        wr_cr3((uint32_t)parent);
        if (u[1024 + 1] != pattern(1, 1)) bench_fail("fork", "the child's write reached the parent");
        space_free(child);
    }
    report("fork", reps, rdtsc() - t);
}

/* exec, n/20 times: a new address space with EXEC_PAGES fresh pages (text copied from the
 * parent, data zeroed), entered, every page touched, left and destroyed. */
static void bench_exec(void)
{
    unsigned reps = n / 20;
    uint64_t t = rdtsc();
    for (unsigned r = 0; r < reps; r++) {
        uint32_t *img = space_new();
        for (unsigned i = 0; i < EXEC_PAGES; i++) {
            uint32_t f = space_map(img, i);
            if (i < 2) page_copy(f, USER_BASE + i * 4096); else page_fill(f, 0);
        }
        wr_cr3((uint32_t)img);
        volatile uint32_t *u = (volatile uint32_t *)USER_BASE;
        uint32_t sum = u[5] + u[1024 + 5];
        for (unsigned i = 2; i < EXEC_PAGES; i++) u[i * 1024 + r % 1024] += sum;
        if (sum != pattern(0, 5) + pattern(1, 5) || u[3 * 1024 + r % 1024] != sum)
            bench_fail("exec", "the new image does not hold its text and data");
        wr_cr3((uint32_t)parent);
        space_free(img);
    }
    report("exec", reps, rdtsc() - t);
}

/* Ping-pong: tasks 0 and 1, each in ring 3 in its own address space, each with its own page at
 * USER_BASE (word 0: its tag, word 1: its turns) and its stack in the next page. A task counts
 * a turn in its page and yields with INT 0x82; the kernel saves its frame, loads CR3 and the
 * frame of the other, and IRETs into it. The n-th yield ends the game: it sets `done` and
 * returns to the task that made it, which leaves ring 3. */
static struct gframe task_frame[2];
static uint32_t *task_space[2];
static unsigned task_cur, yields;
static volatile bool done, cheated;

static void task(void)
{
    volatile uint32_t *mine = (volatile uint32_t *)USER_BASE;
    uint32_t tag = mine[0];
    while (!done) {
        if (mine[0] != tag) cheated = true;
        mine[1]++;
        __asm__ volatile("int $0x82" ::: "memory");
    }
    RING0_RETURN();
}

/* INT 0x82: switch to the other task, or end the game. */
static void yield(struct gframe *f)
{
    if (++yields >= n) { done = true; return; }
    task_frame[task_cur] = *f;
    task_cur ^= 1;
    *f = task_frame[task_cur];
    wr_cr3((uint32_t)task_space[task_cur]);
}

static void bench_pingpong(void)
{
    for (unsigned k = 0; k < 2; k++) {
        task_space[k] = space_new();
        uint32_t page = space_map(task_space[k], 0);
        space_map(task_space[k], 1);
        page_fill(page, 0);
        *(uint32_t *)page = 0x7a5c0 + k;
    }
    task_frame[1] = (struct gframe){ .es = UDS, .ds = UDS, .vector = 0x82, .eip = (uint32_t)task, .cs = UCS,
                                     .eflags = 2, .esp = USER_BASE + 2 * 4096, .ss = UDS };
    set_handler(0x82, yield, 3, false);
    task_cur = 0;
    yields = 0;
    done = n == 0;
    wr_cr3((uint32_t)task_space[0]);
    uint64_t t = rdtsc();
    run_user(task);
    t = rdtsc() - t;
    wr_cr3((uint32_t)parent);
    uint32_t a = user_table(task_space[0])[0] & ~0xfffu, b = user_table(task_space[1])[0] & ~0xfffu;
    uint32_t turns_a = ((uint32_t *)a)[1], turns_b = ((uint32_t *)b)[1];
    if (cheated || turns_a + turns_b != n || turns_a - turns_b > 1)
        bench_fail("pingpong", "the tasks' turns do not add up, or one saw the other's page");
    report("pingpong", n, t);
    for (unsigned k = 0; k < 2; k++) space_free(task_space[k]);
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    bench_args(mbi);
    tables_init();
    setup();
    if (wanted("fork")) bench_fork();
    if (wanted("exec")) bench_exec();
    if (wanted("pingpong")) bench_pingpong();
    gprintf("bench done\n");
    return 0;
}

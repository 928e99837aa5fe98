/* pgos: a small demand-paging kernel in the higher half.
 *
 * Virtual layout (every address space):
 *   0x00000000-0x7fffffff  the process: text and data demand-loaded from the init image,
 *                          stack and mmap regions demand-zero, fork by copy-on-write
 *   0x80000000             the kernel, one global 4 MiB page over physical 0-4 MiB
 *   0xbfc00000             the alternate slot (767): fork points it at the child's directory,
 *                          whose tables then appear here and the directory at 0xbff00000
 *   0xc0000000             the recursive slot: directory entry 768 names the directory, so
 *                          the page tables of the running space are at 0xc0000000 and the
 *                          directory itself at 0xc0300000
 *   0xd0000000-0xdfffffff  the kernel heap, demand-paged; its directory entries are made in
 *                          the master directory and copied into a process's directory on
 *                          the first fault there (as kernels sync their vmalloc area)
 *   0xe0000000             all of physical 0-64 MiB, global 4 MiB pages
 *   0xffffc000, 0xffffd000 two temporary mapping slots (kmap), remapped with INVLPG
 * Frames come from 4-60 MiB, highest first (page tables and directories end up in high
 * memory), from a LIFO free list, so a freed frame is the next one handed out: a process's
 * page directory freed by wait() becomes the next page its parent touches.
 * Cooperative scheduling, until init turns preemption on: then the PIT interrupts ring 3 at
 * 1 kHz and the kernel switches processes there, and halts when every process sleeps. The
 * kernel prints what it does that a user cannot see (faults while a process traces,
 * segfaults, counters up to the preemptive part) and ends with status 0 when init exits 0 and
 * no frame is lost. */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "sys.h"

#define KVIRT     0x80000000u
#define PHYSMAP   0xE0000000u
#define SELF_SLOT 768u
#define SELF      0xC0000000u
#define SELF_PD   (SELF + SELF_SLOT * 4096u)
#define ALT_SLOT  767u
#define ALT       0xBFC00000u
#define ALT_PD    (ALT + SELF_SLOT * 4096u)
#define KMAP(i)   (0xFFFFC000u + (uint32_t)(i) * 4096u)
#define HEAP_LO   0xD0000000u
#define HEAP_HI   0xE0000000u
#define HEAP_PROCS 0xD0000000u
#define HEAP_KSTACK(s) (0xD0400000u + (uint32_t)(s) * 0x400000u)
#define HEAP_LOG  0xDC000000u
#define LOG_SIZE  0x8000u
#define KSTACK_SIZE 8192u
#define FRAME_LO  0x00400000u
#define FRAME_HI  0x03C00000u
#define NFRAMES   ((FRAME_HI - FRAME_LO) / 4096u)
#define NPROC     24
#define NVMA      12

#define PG_P  0x001u
#define PG_W  0x002u
#define PG_U  0x004u
#define PG_A  0x020u
#define PG_D  0x040u
#define PG_PS 0x080u
#define PG_G  0x100u

struct frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_k, ebx, edx, ecx, eax;
    uint32_t vec, err, eip, cs, eflags, uesp, uss;
};

enum { VM_WRITE = 1, VM_FILE = 2 };
struct vma { uint32_t lo, hi, flags, file_off; };

enum { FREE, RUNNABLE, WAITING, ZOMBIE, SLEEPING };
struct proc {
    uint32_t pid, state, pd, ksp, parent, code, trace, slot, wake, waitfor;
    struct vma vma[NVMA];
};

extern const uint32_t trap_vectors[49];
extern void trap_return(void);
extern void ctx_switch(uint32_t *save, uint32_t esp, uint32_t cr3);
extern int copy_user(void *dst, const void *src, uint32_t n);
extern int put_user32(uint32_t *dst, uint32_t v);
extern char copy_user_at[], copy_user_fail[], put_user32_at[], put_user32_fail[];
extern char utext_load[], utext_size[], udata_load[], udata_size[], udata_start[], image_end[], kernel_end[];
extern void _ustart(void);

void kmain(uint32_t magic, uint32_t info);
void trap(struct frame *f);

/* ---- output ------------------------------------------------------------------------------ */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static uint32_t log_len;          /* the kernel keeps what it prints in a demand-paged heap buffer */

static void kputc(char c)
{
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
    ((volatile char *)HEAP_LOG)[log_len++ % LOG_SIZE] = c;
}
static void kputs(const char *s) { while (*s) kputc(*s++); }
static void khex(uint32_t v) { for (int i = 28; i >= 0; i -= 4) kputc("0123456789abcdef"[(v >> i) & 15]); }
static void kdec(uint32_t v)
{
    char b[12];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) kputc(b[--n]);
}

static void halt_status(uint32_t s) __attribute__((noreturn));
static void halt_status(uint32_t s)
{
    outb(0xf4, (uint8_t)s);
    for (;;) __asm__ volatile("cli; hlt");
}

static void panic(const char *why, uint32_t v) __attribute__((noreturn));
static void panic(const char *why, uint32_t v)
{
    kputs("\nkernel panic: "); kputs(why); kputc(' '); khex(v); kputc('\n');
    halt_status(0x7f);
}

/* ---- CPU --------------------------------------------------------------------------------- */

static inline uint32_t rcr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t rcr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t rcr3(void) { uint32_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t rcr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void wcr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void wcr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void wcr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n)
{
    void *r = d;
    __asm__ volatile("cld; rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}
void *memcpy(void *d, const void *s, size_t n)
{
    void *r = d;
    __asm__ volatile("cld; rep movsb" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
    return r;
}
static void copy_page(uint32_t dst, uint32_t src)
{
    uint32_t n = 1024;
    __asm__ volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
}
static void zero_page(uint32_t dst)
{
    uint32_t n = 1024;
    __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(0) : "memory");
}

/* ---- descriptors ------------------------------------------------------------------------- */

static uint64_t gdt[6];
static uint64_t idt[256];
static uint32_t tss[26];

static uint64_t seg(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
    return (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 15) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void descriptors(void)
{
    gdt[1] = seg(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = seg(0, 0xfffff, 0x92, 0xc);
    gdt[3] = seg(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = seg(0, 0xfffff, 0xf2, 0xc);
    gdt[5] = seg((uint32_t)tss, sizeof tss - 1, 0x89, 0);
    tss[2] = 0x10;
    tss[25] = (uint32_t)sizeof tss << 16;
    for (int v = 0; v < 49; v++) {
        uint32_t off = trap_vectors[v];
        int vec = v < 32 ? v : v == 32 ? 0x80 : v - 1;
        idt[vec] = (off & 0xffffu) | (0x08ull << 16) | ((uint64_t)(vec == 0x80 ? 0xee : 0x8e) << 40) |
                   ((uint64_t)(off >> 16) << 48);
    }
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) g = { sizeof gdt - 1, (uint32_t)gdt },
        i = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0; ljmp $0x08, $1f; 1: mov $0x10, %%ax; mov %%ax, %%ds; mov %%ax, %%es;"
                     "mov %%ax, %%ss; xor %%ax, %%ax; mov %%ax, %%fs; mov %%ax, %%gs; lidt %1; mov $0x28, %%ax; ltr %%ax"
                     :: "m"(g), "m"(i) : "eax", "memory");
    /* Both 8259s to vectors 0x20-0x2f, every line masked: nothing interrupts. */
    static const uint8_t icw[] = { 0x11, 0x20, 0x04, 0x01 }, icw2[] = { 0x11, 0x28, 0x02, 0x01 };
    for (int k = 0; k < 4; k++) { outb(k ? 0x21 : 0x20, icw[k]); outb(k ? 0xa1 : 0xa0, icw2[k]); }
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/* ---- frames ------------------------------------------------------------------------------ */

static uint32_t free_stack[NFRAMES];
static uint32_t nfree, nfree_boot;
static uint16_t refs[0x4000000u / 4096u];
static uint32_t kernel_frames;      /* frames the kernel keeps for good (tables, heap) */

static inline volatile uint32_t *phys(uint32_t pa) { return (volatile uint32_t *)(PHYSMAP + pa); }

static uint32_t frame_alloc(void)
{
    if (!nfree) panic("out of frames", 0);
    uint32_t f = free_stack[--nfree];
    refs[f >> 12] = 1;
    return f;
}

static void frame_put(uint32_t f)
{
    if (!refs[f >> 12]) panic("frame freed twice", f);
    if (--refs[f >> 12] == 0) free_stack[nfree++] = f;
}

/* ---- address spaces ---------------------------------------------------------------------- */

static uint32_t kpd;                /* the master directory: the kernel's half of every space */
static uint32_t kmap_pt;

static inline volatile uint32_t *pde_of(uint32_t va) { return (volatile uint32_t *)(SELF_PD + (va >> 22) * 4); }
static inline volatile uint32_t *pte_of(uint32_t va) { return (volatile uint32_t *)(SELF + (va >> 12) * 4); }
static inline uint32_t table_va(uint32_t va) { return SELF + (va >> 22) * 4096u; }

static uint32_t kmap(int slot, uint32_t frame)
{
    *pte_of(KMAP(slot)) = frame | PG_P | PG_W;
    invlpg(KMAP(slot));
    return KMAP(slot);
}

static uint32_t new_directory(void)
{
    uint32_t pd = frame_alloc();
    uint32_t v = kmap(0, pd);
    zero_page(v);
    memcpy((void *)(v + 2048), (const void *)(PHYSMAP + kpd + 2048), 2048);
    ((volatile uint32_t *)v)[SELF_SLOT] = pd | PG_P | PG_W;
    return pd;
}

/* ---- processes --------------------------------------------------------------------------- */

static struct proc *const procs = (struct proc *)HEAP_PROCS;
static struct proc *cur;
static uint32_t next_pid = 1, last_freed_pd;
static uint32_t stats[ST_COUNT];
static uint32_t kheap_faults, pde_syncs, segfaults, pts_made;

static struct vma *vma_find(struct proc *p, uint32_t va)
{
    for (int i = 0; i < NVMA; i++)
        if (p->vma[i].hi && va >= p->vma[i].lo && va < p->vma[i].hi) return &p->vma[i];
    return 0;
}

static struct vma *vma_add(struct proc *p, uint32_t lo, uint32_t hi, uint32_t flags, uint32_t off)
{
    for (int i = 0; i < NVMA; i++) {
        if (p->vma[i].hi && lo < p->vma[i].hi && hi > p->vma[i].lo) return 0;
    }
    for (int i = 0; i < NVMA; i++) {
        if (p->vma[i].hi) continue;
        p->vma[i] = (struct vma){ lo, hi, flags, off };
        return &p->vma[i];
    }
    return 0;
}

/* The kernel heap: a fault there maps a zeroed frame in the master's table; a directory that
 * lacks the master's entry gets a copy of it first (and that may be all the fault needed). */
static void heap_fault(uint32_t va)
{
    uint32_t i = va >> 22;
    volatile uint32_t *m = phys(kpd);
    if (!(m[i] & PG_P)) {
        uint32_t pt = frame_alloc();
        kernel_frames++;
        zero_page(PHYSMAP + pt);
        m[i] = pt | PG_P | PG_W;
    }
    if (!(*pde_of(va) & PG_P)) {
        *pde_of(va) = m[i];
        invlpg(table_va(va));
        pde_syncs++;
        if (*pte_of(va) & PG_P) return;
    }
    if (*pte_of(va) & PG_P) panic("heap fault on a present page", va);
    uint32_t f = frame_alloc();
    kernel_frames++;
    zero_page(PHYSMAP + f);
    *pte_of(va) = f | PG_P | PG_W;
    kheap_faults++;
}

/* Make sure the running directory has a table for user address va. */
static void user_table(uint32_t va)
{
    if (*pde_of(va) & PG_P) return;
    uint32_t pt = frame_alloc();
    *pde_of(va) = pt | PG_P | PG_W | PG_U;
    invlpg(table_va(va));
    zero_page(table_va(va));
    pts_made++;
}

/* A write to a copy-on-write page: the last sharer takes it back writable, the others copy. */
static void cow_break(uint32_t va)
{
    uint32_t e = *pte_of(va), old = e & ~0xfffu;
    if (refs[old >> 12] == 1) {
        *pte_of(va) = (e | PG_W) & ~PG_COW;
        invlpg(va);
        stats[ST_COW_REUSE]++;
        return;
    }
    uint32_t f = frame_alloc();
    copy_page(kmap(1, f), kmap(0, old));
    frame_put(old);
    *pte_of(va) = f | PG_P | PG_W | PG_U;
    invlpg(va);
    stats[ST_COW_COPY]++;
}

/* A fault at user address va with error code err: true when it was resolved. */
static bool user_fault(uint32_t va, uint32_t err)
{
    if (!cur) return false;
    struct vma *v = vma_find(cur, va);
    if (!v) return false;
    if (err & PG_P) {
        if (!(err & PG_W) || !(v->flags & VM_WRITE)) return false;
        if (!(*pte_of(va) & PG_COW)) return false;
        cow_break(va);
        return true;
    }
    if ((err & PG_W) && !(v->flags & VM_WRITE)) return false;
    user_table(va);
    uint32_t page = va & ~0xfffu, f = frame_alloc(), k = kmap(0, f);
    if (v->flags & VM_FILE) {
        uint32_t src = (uint32_t)utext_load + v->file_off + (page - v->lo), end = (uint32_t)image_end;
        copy_page(k, PHYSMAP + src);
        if (end - src < 4096) memset((void *)(k + (end - src)), 0, 4096 - (end - src));
        stats[ST_FILE]++;
    } else {
        zero_page(k);
        stats[ST_DEMAND]++;
    }
    *pte_of(va) = f | PG_P | PG_U | ((v->flags & VM_WRITE) ? PG_W : 0);
    return true;
}

/* Unmap [lo, hi) of the running space; frees the tables that end up empty. */
static uint32_t unmap_calls;
static void unmap_range(uint32_t lo, uint32_t hi)
{
    unmap_calls++;
    for (uint32_t va = lo; va < hi; va += 4096) {
        if (!(*pde_of(va) & PG_P)) { va = (va | 0x3fffffu) - 4095; continue; }
        uint32_t e = *pte_of(va);
        if (!(e & PG_P)) continue;
        *pte_of(va) = 0;
        invlpg(va);
        frame_put(e & ~0xfffu);
    }
    for (uint32_t t = lo & ~0x3fffffu; t < hi; t += 0x400000u) {
        if (!(*pde_of(t) & PG_P)) continue;
        volatile uint32_t *pt = (volatile uint32_t *)table_va(t);
        bool empty = true;
        for (int j = 0; j < 1024 && empty; j++) empty = !(pt[j] & PG_P);
        if (!empty) continue;
        uint32_t f = *pde_of(t) & ~0xfffu;
        *pde_of(t) = 0;
        invlpg(table_va(t));
        frame_put(f);
        stats[ST_PT_FREED]++;
    }
}

static struct proc *proc_new(void)
{
    for (int s = 0; s < NPROC; s++) {
        struct proc *p = &procs[s];
        if (p->state != FREE) continue;
        memset(p, 0, sizeof *p);
        p->slot = (uint32_t)s;
        p->pid = next_pid++;
        return p;
    }
    return 0;
}

static uint32_t kstack_top(struct proc *p) { return HEAP_KSTACK(p->slot) + KSTACK_SIZE; }

/* A new process's kernel stack: it starts in trap_return with the frame given. */
static void kstack_init(struct proc *p, const struct frame *f)
{
    for (uint32_t a = HEAP_KSTACK(p->slot); a < kstack_top(p); a += 4096) *(volatile uint32_t *)a = 0;
    struct frame *nf = (struct frame *)(kstack_top(p) - sizeof *nf);
    *nf = *f;
    uint32_t *sp = (uint32_t *)nf;
    *--sp = (uint32_t)trap_return;
    for (int i = 0; i < 4; i++) *--sp = 0;
    p->ksp = (uint32_t)sp;
}

static void schedule(void);

/* The counters, printed once: when init turns preemption on (after that the order in which
 * processes run, and so what they cost, depends on when the timer strikes). */
static void snapshot(void)
{
    kputs("kernel: heap faults "); kdec(kheap_faults); kputs(", directory entries synced "); kdec(pde_syncs);
    kputs(", user tables made "); kdec(pts_made); kputs(", freed "); kdec(stats[ST_PT_FREED]);
    kputs("\nkernel: demand-zero "); kdec(stats[ST_DEMAND]); kputs(", from the image "); kdec(stats[ST_FILE]);
    kputs(", cow copies "); kdec(stats[ST_COW_COPY]); kputs(", cow reuses "); kdec(stats[ST_COW_REUSE]);
    kputs(", kernel faults on user pages "); kdec(stats[ST_KFAULT_USER]); kputs(", segfaults "); kdec(segfaults);
    kputs(", unmaps "); kdec(unmap_calls); kputc('\n');
}

static void exit_space(void)
{
    for (uint32_t i = 0; i < 512; i++) {
        if (!(((volatile uint32_t *)SELF_PD)[i] & PG_P)) continue;
        unmap_range(i << 22, (i + 1) << 22);
    }
}

static void do_exit(uint32_t code) __attribute__((noreturn));
static void do_exit(uint32_t code)
{
    exit_space();
    cur->state = ZOMBIE;
    cur->code = code;
    for (int s = 0; s < NPROC; s++)
        if (procs[s].state == WAITING && procs[s].pid == cur->parent) procs[s].state = RUNNABLE;
    if (cur->pid == 1) {
        /* init is gone: back to the master directory and the tally. */
        outb(0x21, 0xff);
        wcr3(kpd);
        frame_put(cur->pd);
        cur->state = FREE;
        kputs("kernel: init exited with "); kdec(code);
        uint32_t lost = nfree_boot - nfree - kernel_frames;
        kputs("\nkernel: frames lost "); kdec(lost);
        kputs(", log bytes "); kdec(log_len); kputc('\n');
        halt_status(code || lost ? 1 : 0);
    }
    schedule();
    panic("a zombie ran", cur->pid);
}

/* The running process's kernel stack has its directory entry wherever it runs; the rest of
 * the heap is synced on demand. */
static void sync_kstack(struct proc *p)
{
    uint32_t a = HEAP_KSTACK(p->slot);
    volatile uint32_t *d = phys(p->pd);
    if (!(d[a >> 22] & PG_P)) { d[a >> 22] = phys(kpd)[a >> 22]; pde_syncs++; }
}

static volatile uint32_t ticks;
static bool preempt;

/* The next runnable process after the current one; with none, halt until the timer wakes a
 * sleeper (the current process's kernel stack takes the interrupt meanwhile). */
static void schedule(void)
{
    for (;;) {
        int start = (int)cur->slot;
        for (int k = 1; k <= NPROC; k++) {
            struct proc *p = &procs[(start + k) % NPROC];
            if (p->state != RUNNABLE) continue;
            if (p == cur) return;
            struct proc *prev = cur;
            cur = p;
            sync_kstack(p);
            tss[1] = kstack_top(p);
            ctx_switch(&prev->ksp, p->ksp, p->pd);
            return;
        }
        bool sleepers = false;
        for (int s = 0; s < NPROC; s++) sleepers |= procs[s].state == SLEEPING;
        if (!sleepers) panic("nothing to run", cur->pid);
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
}

/* The PIT's interrupt: wake the sleepers whose time came; preempt ring 3. */
static void timer_tick(const struct frame *f)
{
    ticks++;
    for (int s = 0; s < NPROC; s++)
        if (procs[s].state == SLEEPING && (int32_t)(ticks - procs[s].wake) >= 0) procs[s].state = RUNNABLE;
    if (preempt && (f->cs & 3) && cur->state == RUNNABLE) schedule();
}

/* The timer starts with the first call and keeps ticking (sleepers need it); preemption
 * follows on. */
static void set_preempt(bool on)
{
    static bool ticking;
    preempt = on;
    if (on && !ticking) {
        outb(0x43, 0x34);                       /* channel 0, mode 2, both bytes */
        outb(0x40, 1193 & 0xff);
        outb(0x40, 1193 >> 8);
        outb(0x21, 0xfe);
        ticking = true;
    }
}

static uint32_t do_fork(struct frame *f)
{
    struct proc *c = proc_new();
    if (!c) return (uint32_t)-ENOMEM;
    c->pd = new_directory();
    c->parent = cur->pid;
    c->trace = cur->trace;
    for (int i = 0; i < NVMA; i++) c->vma[i] = cur->vma[i];
    /* The child's directory in the alternate slot: its entries at ALT_PD, its tables at
     * ALT + i * 4096 once made. A full flush: the slot named another directory before. */
    ((volatile uint32_t *)SELF_PD)[ALT_SLOT] = c->pd | PG_P | PG_W;
    wcr3(cur->pd);
    volatile uint32_t *cd = (volatile uint32_t *)ALT_PD;
    for (uint32_t i = 0; i < 512; i++) {
        uint32_t pde = ((volatile uint32_t *)SELF_PD)[i];
        if (!(pde & PG_P)) continue;
        uint32_t npt = frame_alloc();
        cd[i] = npt | (pde & 0xfffu);
        volatile uint32_t *ct = (volatile uint32_t *)(ALT + i * 4096), *pt = (volatile uint32_t *)(SELF + i * 4096);
        for (int j = 0; j < 1024; j++) {
            uint32_t e = pt[j];
            if (!(e & PG_P)) { ct[j] = 0; continue; }
            if (e & PG_W) { e = (e & ~PG_W) | PG_COW; pt[j] = e; }
            refs[e >> 12]++;
            ct[j] = e;
        }
    }
    ((volatile uint32_t *)SELF_PD)[ALT_SLOT] = 0;
    wcr3(cur->pd);                  /* the parent's writable entries are read-only now */
    struct frame cf = *f;
    cf.eax = 0;
    kstack_init(c, &cf);
    c->state = RUNNABLE;
    return c->pid;
}

static uint32_t do_wait(uint32_t status_ptr, uint32_t pid)
{
    for (;;) {
        bool any = false;
        for (int s = 0; s < NPROC; s++) {
            struct proc *p = &procs[s];
            if (p->state == FREE || p->parent != cur->pid || (pid && p->pid != pid)) continue;
            any = true;
            if (p->state != ZOMBIE) continue;
            if (status_ptr && put_user32((uint32_t *)status_ptr, p->code)) return (uint32_t)-EFAULT;
            frame_put(p->pd);
            last_freed_pd = p->pd;
            p->state = FREE;
            return p->pid;
        }
        if (!any) return (uint32_t)-ECHILD;
        cur->state = WAITING;
        schedule();
    }
}

static uint32_t sys_write(uint32_t buf, uint32_t len)
{
    char tmp[64];
    uint32_t done = 0;
    while (done < len) {
        uint32_t n = len - done < sizeof tmp ? len - done : sizeof tmp;
        if (buf + done >= KVIRT || copy_user(tmp, (const void *)(buf + done), n)) return (uint32_t)-EFAULT;
        for (uint32_t i = 0; i < n; i++) kputc(tmp[i]);
        done += n;
    }
    return len;
}

static const char pattern[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";

static uint32_t syscall(struct frame *f)
{
    uint32_t a = f->ebx, b = f->ecx;
    switch (f->eax) {
    case SYS_EXIT: do_exit(a);
    case SYS_WRITE: return sys_write(a, b);
    case SYS_FORK: return do_fork(f);
    case SYS_WAIT: return do_wait(a, 0);
    case SYS_WAITPID: return do_wait(b, a);
    case SYS_YIELD: schedule(); return 0;
    case SYS_MMAP:
        if ((a | b) & 0xfff || !b || a + b > USER_STACK_LOW || a + b < a) return (uint32_t)-EFAULT;
        return vma_add(cur, a, a + b, VM_WRITE, 0) ? a : (uint32_t)-ENOMEM;
    case SYS_MUNMAP:
        for (int i = 0; i < NVMA; i++)
            if (cur->vma[i].lo == a && cur->vma[i].hi == a + b) {
                cur->vma[i].hi = 0;
                unmap_range(a, a + b);
                return 0;
            }
        return (uint32_t)-EFAULT;
    case SYS_GETPID: return cur->pid;
    case SYS_PTE: return a < KVIRT && (*pde_of(a) & PG_P) ? *pte_of(a) & 0xfffu : 0xffffffffu;
    case SYS_FRAMEOF:
        if (a >= KVIRT || !(*pde_of(a) & PG_P)) return 0;
        return ((b ? *pde_of(a) : *pte_of(a)) & ~0xfffu) == last_freed_pd;
    case SYS_TRACE: cur->trace = a; return 0;
    case SYS_PUTPID: return a >= KVIRT ? (uint32_t)-EFAULT : put_user32((uint32_t *)a, cur->pid) ? (uint32_t)-EFAULT : 0;
    case SYS_POKE_NOWP: {
        if (a >= KVIRT) return (uint32_t)-EFAULT;
        wcr0(rcr0() & ~(1u << 16));
        int r = put_user32((uint32_t *)a, b);
        wcr0(rcr0() | (1u << 16));
        return r ? (uint32_t)-EFAULT : 0;
    }
    case SYS_STAT: return a < ST_COUNT ? stats[a] : 0;
    case SYS_READ_AT: {
        if (a >= KVIRT || b > sizeof pattern - 1) return (uint32_t)-EFAULT;
        return copy_user((void *)a, pattern, b) ? (uint32_t)-EFAULT : b;
    }
    case SYS_FREE: return nfree + kernel_frames;   /* frames no process holds */
    case SYS_PREEMPT:
        if (a && !preempt) snapshot();
        set_preempt(a != 0);
        return 0;
    case SYS_SLEEP:
        cur->wake = ticks + a;
        cur->state = SLEEPING;
        schedule();
        return 0;
    }
    return (uint32_t)-1;
}

static void trace_fault(const struct frame *f, uint32_t va)
{
    kputs("  [pf pid "); kdec(cur->pid); kputs(" err "); kdec(f->err); kputs(" cr2 "); khex(va);
    if (f->cs & 3) { kputs(" eip "); khex(f->eip); }
    else { kputs(" eip kernel+"); khex(f->eip - KVIRT); }
    kputs(" ecx "); khex(f->ecx); kputs("]\n");
}

void trap(struct frame *f)
{
    if (f->vec == 0x80) { f->eax = syscall(f); return; }
    if (f->vec >= 0x20 && f->vec < 0x30) {
        unsigned irq = f->vec - 0x20;
        if (irq == 7 || irq == 15) {                  /* spurious unless its ISR bit is set */
            outb(irq == 7 ? 0x20 : 0xa0, 0x0b);
            if (!(inb(irq == 7 ? 0x20 : 0xa0) & 0x80)) { if (irq == 15) outb(0x20, 0x20); return; }
        }
        if (irq >= 8) outb(0xa0, 0x20);
        outb(0x20, 0x20);
        if (irq == 0) timer_tick(f);
        return;
    }
    if (f->vec != 14) {
        kputs("\ntrap "); kdec(f->vec); kputs(" err "); khex(f->err); kputs(" eip "); khex(f->eip);
        panic("unexpected trap", f->vec);
    }
    uint32_t va = rcr2();
    bool user = f->cs & 3;
    if (cur && cur->trace && va < KVIRT) trace_fault(f, va);
    if (va >= HEAP_LO && va < HEAP_HI && !user) { heap_fault(va); return; }
    if (va < KVIRT) {
        if (!user) stats[ST_KFAULT_USER]++;
        if (user_fault(va, f->err)) return;
        if (!user) {
            if (f->eip == (uint32_t)copy_user_at) { f->eip = (uint32_t)copy_user_fail; return; }
            if (f->eip == (uint32_t)put_user32_at) { f->eip = (uint32_t)put_user32_fail; return; }
        }
    }
    if (!user) { kputs("\nkernel fault at eip "); khex(f->eip); kputs(" err "); khex(f->err); panic("cr2", va); }
    segfaults++;
    kputs("kernel: pid "); kdec(cur->pid); kputs(" segfault at "); khex(va); kputs(" err "); kdec(f->err);
    kputs(" eip "); khex(f->eip); kputc('\n');
    do_exit(139);
}

/* ---- boot -------------------------------------------------------------------------------- */

/* Kernel code patched at run time, as kernels patch their text: through a temporary mapping
 * of its frame, or through the physical map; then run from its own address and from the
 * physical map's. */
__attribute__((noipa)) static uint32_t patchable(void) { return 0x1111; }

static void text_poke(uint32_t v, bool via_kmap)
{
    uint32_t at = (uint32_t)patchable;
    while (*(volatile uint8_t *)at != 0xb8) at++;          /* mov eax, imm32 */
    uint32_t pa = at + 1 - KVIRT;
    uint32_t w = via_kmap ? kmap(1, pa & ~0xfffu) + (pa & 0xfffu) : PHYSMAP + pa;
    for (int i = 0; i < 4; i++) ((volatile uint8_t *)w)[i] = (uint8_t)(v >> (8 * i));
}

void kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    descriptors();
    if (magic != 0x2BADB002) halt_status(0x7e);
    for (uint32_t f = FRAME_LO; f < FRAME_HI; f += 4096) free_stack[nfree++] = f;
    /* Frames above 4 MiB are reached through the physical map: it goes into the boot
     * directory first, so that the master directory can be built in one of them. */
    extern uint32_t boot_pd[1024];
    for (uint32_t i = 0; i < 16; i++) boot_pd[896 + i] = (i << 22) | PG_PS | PG_P | PG_W;
    wcr3(rcr3());
    kpd = frame_alloc();
    kmap_pt = frame_alloc();
    kernel_frames += 2;
    zero_page(PHYSMAP + kpd);
    zero_page(PHYSMAP + kmap_pt);
    volatile uint32_t *m = phys(kpd);
    m[512] = PG_PS | PG_P | PG_W | PG_G;
    for (uint32_t i = 0; i < 16; i++) m[896 + i] = (i << 22) | PG_PS | PG_P | PG_W | PG_G;
    m[SELF_SLOT] = kpd | PG_P | PG_W;
    m[1023] = kmap_pt | PG_P | PG_W;
    wcr3(kpd);
    wcr4(rcr4() | (1u << 7));               /* global pages: the kernel's survive CR3 loads */
    nfree_boot = nfree + kernel_frames;

    kputs("pgos: higher-half kernel, directory at ");
    khex(kpd); kputs(", recursive slot "); kdec(SELF_SLOT); kputc('\n');
    /* The identity map is gone: low addresses fault now, from the kernel too. */
    uint32_t probe = 0;
    int r = copy_user(&probe, (const void *)0x00100000, 4);
    kputs("kernel: read of 0x00100000 after the switch: "); kputs(r ? "faulted\n" : "read!\n");
    kputs("kernel: directory through itself: entry 768 = "); khex(((volatile uint32_t *)SELF_PD)[SELF_SLOT]);
    kputs(", entry 512 = "); khex(((volatile uint32_t *)SELF_PD)[512]); kputc('\n');
    uint32_t (*alias)(void) = (uint32_t (*)(void))(PHYSMAP + (uint32_t)patchable - KVIRT);
    kputs("kernel: patched code: "); khex(patchable());
    text_poke(0x2222, true);
    kputc(' '); khex(patchable()); kputc(' '); khex(alias());
    text_poke(0x3333, false);
    kputc(' '); khex(alias()); kputc(' '); khex(patchable()); kputc('\n');
    /* The kmap slot's table was written through the recursive slot, where directory entry
     * 1023 is a page-table entry: it is accessed and dirty now, as the page it maps. */
    kputs("kernel: entry 1023 after kmap = "); khex(((volatile uint32_t *)SELF_PD)[1023]); kputc('\n');

    /* init: its image regions, its stack, and a frame that IRETs to its entry. */
    struct proc *p = proc_new();
    p->pd = new_directory();
    p->parent = 0;
    uint32_t tsz = ((uint32_t)utext_size + 4095) & ~4095u, dsz = ((uint32_t)udata_size + 4095) & ~4095u;
    vma_add(p, 0x08048000u, 0x08048000u + tsz, VM_FILE, 0);
    vma_add(p, (uint32_t)udata_start, (uint32_t)udata_start + dsz, VM_FILE | VM_WRITE,
            (uint32_t)udata_load - (uint32_t)utext_load);
    vma_add(p, USER_STACK_LOW, USER_STACK_TOP, VM_WRITE, 0);
    kputs("kernel: init text "); khex(tsz); kputs(" data "); khex(dsz); kputc('\n');
    struct frame f0 = { .es = 0x23, .ds = 0x23, .eip = (uint32_t)_ustart, .cs = 0x1b, .eflags = 0x202,
                        .uesp = USER_STACK_TOP, .uss = 0x23 };
    kstack_init(p, &f0);
    p->state = RUNNABLE;
    static struct proc boot_proc;       /* what the boot thread saves into, never resumed */
    boot_proc.slot = NPROC - 1;
    cur = &boot_proc;
    sync_kstack(p);
    cur = p;
    tss[1] = kstack_top(p);
    uint32_t dummy;
    ctx_switch(&dummy, p->ksp, p->pd);
    panic("boot thread resumed", 0);
}

/* pgmmu: 32-bit paging as a kernel sees it, one mechanism at a time. Identity-mapped kernel
 * (4 KiB pages) at 1 MiB, its page directory and page tables at 60 MiB, test frames at 32 MiB,
 * two 4 MiB frames at 48 and 52 MiB. Each test maps fresh pages at 0x40000000 + n * 4 MiB,
 * does something to them and prints the page-table entries, the values read and every page
 * fault's error code, CR2, EIP and the registers that say where an instruction stopped.
 * Every fault is answered the way a kernel would (map the page, grant the right, or skip a
 * probe), so string instructions resume where they stopped. Status 0: every check held. */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define PG_P  0x001u
#define PG_W  0x002u
#define PG_U  0x004u
#define PG_A  0x020u
#define PG_D  0x040u
#define PG_PS 0x080u
#define PG_G  0x100u

#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)
#define CR4_OSFXSR (1u << 9)

#define PD_PA     0x03C00000u      /* the page directory, in high memory */
#define PT_POOL   0x03C01000u      /* page tables come from here up */
#define DATA_POOL 0x02000000u      /* test frames */
#define BIG_A     0x03000000u      /* a 4 MiB frame */
#define BIG_B     0x03400000u      /* a 4 MiB frame whose first page is also a page table */
#define TVA(n)    (0x40000000u + (uint32_t)(n) * 0x400000u)

struct frame {
    uint32_t es, ds;
    uint32_t edi, esi, ebp, esp_k, ebx, edx, ecx, eax;
    uint32_t vec, err, eip, cs, eflags, uesp, uss;
};

struct ustate { uint32_t eip, esp, eax, ebx, ecx, edx, esi, edi, eflags; };

/* from start.asm */
extern void enter_user(struct ustate *u);
extern void leave_user(void) __attribute__((noreturn));
extern const uint32_t tstub_table[33];
extern char trap_stack_hi[];
extern uint32_t probe_hit;
extern uint32_t probe_rd(uint32_t va);
extern uint32_t probe_wr(uint32_t va, uint32_t v);
extern char probe_rd_at[], probe_wr_at[], probe_fix[];
extern uint32_t k_movsb_rep(uint32_t dst, uint32_t src, uint32_t n);
extern uint32_t k_movsd_rep(uint32_t dst, uint32_t src, uint32_t n);
extern uint32_t k_stosd_rep(uint32_t dst, uint32_t src, uint32_t n);
extern uint32_t k_stosb_rep(uint32_t dst, uint32_t src, uint32_t n);
extern uint32_t k_movsb_back(uint32_t dst, uint32_t src, uint32_t n);
extern char k_movsb_rep_at[], k_movsd_rep_at[], k_stosd_rep_at[], k_movsb_back_at[];
extern uint32_t k_pushmem(uint32_t va);
extern void k_popmem(uint32_t va, uint32_t v);
extern char k_pushmem_at[], k_popmem_at[];
extern uint32_t k_esp_seen;
extern char u_snips[], u_snips_end[], us_read[], us_write[], us_movsb[], us_call[], us_stosd[], us_done[], us_keep[];

void kmain(uint32_t magic, uint32_t info);
void trap(struct frame *f);

/* ---- console --------------------------------------------------------------------------- */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static void ch(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, (uint8_t)c); }
static void str(const char *s) { while (*s) ch(*s++); }
static void hx(uint32_t v) { for (int i = 28; i >= 0; i -= 4) ch("0123456789abcdef"[(v >> i) & 15]); }

static unsigned bad;

static void val(const char *k, uint32_t v) { str("  "); str(k); ch('='); hx(v); ch('\n'); }
static void chk(const char *k, uint32_t v, uint32_t want)
{
    str("  "); str(k); ch('='); hx(v);
    if (v != want) { str("  <-- expected "); hx(want); bad++; }
    ch('\n');
}
static void head(const char *s) { str("["); str(s); str("]\n"); }

static void halt_with(uint32_t code) __attribute__((noreturn));
static void halt_with(uint32_t code)
{
    outb(0xf4, (uint8_t)code);
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- CPU ------------------------------------------------------------------------------- */

static inline uint32_t cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void set_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void set_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void set_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void reload_cr3(void) { set_cr3(PD_PA); }
static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }

/* Accesses through test mappings; the compiler keeps every other memory access on its side
 * (table entries are written through other addresses it could otherwise prove distinct). */
#define barrier() __asm__ volatile("" ::: "memory")
static inline uint32_t rd(uint32_t va) { barrier(); uint32_t v = *(volatile uint32_t *)va; barrier(); return v; }
static inline void wr(uint32_t va, uint32_t v) { barrier(); *(volatile uint32_t *)va = v; barrier(); }
static inline uint8_t rdb(uint32_t va) { barrier(); uint8_t v = *(volatile uint8_t *)va; barrier(); return v; }

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d; }

/* ---- descriptor tables ----------------------------------------------------------------- */

static uint64_t gdt[6];
static uint64_t idt[256];
static uint32_t tss[26];

static uint64_t seg(uint32_t base, uint32_t limit, uint32_t type_dpl, uint32_t flags)
{
    return (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16) | ((uint64_t)type_dpl << 40) |
           ((uint64_t)((limit >> 16) & 15) << 48) | ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void gate(int v, uint32_t off, int dpl)
{
    idt[v] = (off & 0xffffu) | (0x08ull << 16) | ((uint64_t)(0x8e | (dpl << 5)) << 40) |
             ((uint64_t)(off >> 16) << 48);
}

static void tables(void)
{
    gdt[1] = seg(0, 0xfffff, 0x9a, 0xc);
    gdt[2] = seg(0, 0xfffff, 0x92, 0xc);
    gdt[3] = seg(0, 0xfffff, 0xfa, 0xc);
    gdt[4] = seg(0, 0xfffff, 0xf2, 0xc);
    gdt[5] = seg((uint32_t)tss, sizeof tss - 1, 0x89, 0);
    tss[1] = (uint32_t)trap_stack_hi;
    tss[2] = 0x10;
    tss[25] = (uint32_t)sizeof tss << 16;
    for (int v = 0; v < 32; v++) gate(v, tstub_table[v], 0);
    gate(0x80, tstub_table[32], 3);
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) g = { sizeof gdt - 1, (uint32_t)gdt },
        i = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lgdt %0; ljmp $0x08, $1f; 1: mov $0x10, %%ax; mov %%ax, %%ds; mov %%ax, %%es;"
                     "mov %%ax, %%ss; mov %%ax, %%fs; mov %%ax, %%gs; lidt %1; mov $0x28, %%ax; ltr %%ax"
                     :: "m"(g), "m"(i) : "eax", "memory");
}

/* ---- page tables ----------------------------------------------------------------------- */

static volatile uint32_t *const pd = (volatile uint32_t *)PD_PA;
static uint32_t pt_next = PT_POOL, data_next = DATA_POOL;

static uint32_t new_pt(void)
{
    uint32_t a = pt_next;
    pt_next += 4096;
    memset((void *)a, 0, 4096);
    return a;
}

/* A test frame whose words say where they are: word i = pa + 4 * i, xor a tag. */
static uint32_t new_frame(void)
{
    uint32_t a = data_next;
    data_next += 4096;
    for (uint32_t i = 0; i < 1024; i++) ((uint32_t *)a)[i] = (a + 4 * i) ^ 0x5eed0000u;
    return a;
}
static uint32_t tag(uint32_t pa) { return pa ^ 0x5eed0000u; }

/* The PTE of va (its table made with PDE rights pde_flags when there is none yet). */
static volatile uint32_t *pte_at(uint32_t va, uint32_t pde_flags)
{
    volatile uint32_t *e = &pd[va >> 22];
    if (!(*e & PG_P)) *e = new_pt() | pde_flags;
    return (volatile uint32_t *)((*e & ~0xfffu) + ((va >> 12) & 1023) * 4);
}
static volatile uint32_t *pte(uint32_t va) { return pte_at(va, PG_P | PG_W | PG_U); }
static void map(uint32_t va, uint32_t pa, uint32_t fl) { *pte(va) = pa | fl; invlpg(va); }

/* ---- faults ---------------------------------------------------------------------------- */

/* The last page fault, as the handler saw it on entry. */
static struct {
    uint32_t n, err, cr2, eip, esp, ecx, esi, edi, eax, pde, pte, user;
} pf;
static bool pf_no_walk;        /* CR4.PSE is off: the handler must not read the tables */

/* Pages the handler will put in place on a fault (a kernel's demand paging, in miniature):
 * a fault in page va installs entry; at a PDE (pde set) the directory entry. */
static struct { uint32_t va, entry; bool pde; } pend[8];
static unsigned npend;

static void on_fault_set(uint32_t va, uint32_t entry) { pend[npend++] = (typeof(pend[0])){ va & ~0xfffu, entry, false }; }
static void on_fault_pde(uint32_t va, uint32_t entry) { pend[npend++] = (typeof(pend[0])){ va & ~0xfffu, entry, true }; }

static struct ustate *ucur;
static bool db_catch;
static uint32_t db_eip, db_dr6, db_n;

void trap(struct frame *f)
{
    if (f->vec == 0x80 && ucur) {
        *ucur = (struct ustate){ f->eip, f->uesp, f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->eflags };
        leave_user();
    }
    if (f->vec == 1 && db_catch) {
        /* A single step: where it stopped, and TF off again. */
        uint32_t d6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(d6));
        db_eip = f->eip;
        db_dr6 = d6 & 0x4000u;
        db_n++;
        f->eflags &= ~0x100u;
        __asm__ volatile("mov %0, %%dr6" :: "r"(0u));
        return;
    }
    if (f->vec == 14) {
        uint32_t a = cr2();
        pf.n++;
        pf.err = f->err; pf.cr2 = a; pf.eip = f->eip; pf.user = f->cs & 3;
        pf.esp = pf.user ? f->uesp : (uint32_t)&f->uesp;
        pf.ecx = f->ecx; pf.esi = f->esi; pf.edi = f->edi; pf.eax = f->eax;
        pf.pde = pf.pte = 0;
        if (!pf_no_walk) {
            pf.pde = pd[a >> 22];
            if ((pf.pde & PG_P) && !(pf.pde & PG_PS))
                pf.pte = ((volatile uint32_t *)(pf.pde & ~0xfffu))[(a >> 12) & 1023];
        }
        for (unsigned i = 0; i < npend; i++) {
            if (pend[i].va != (a & ~0xfffu)) continue;
            if (pend[i].pde) pd[a >> 22] = pend[i].entry;
            else *pte(a) = pend[i].entry;
            invlpg(a);
            pend[i] = pend[--npend];
            return;
        }
        if (f->eip == (uint32_t)probe_rd_at || f->eip == (uint32_t)probe_wr_at) {
            f->eip = (uint32_t)probe_fix;
            return;
        }
    }
    str("\nunexpected trap "); hx(f->vec); str(" err "); hx(f->err); str(" eip "); hx(f->eip);
    str(" cr2 "); hx(cr2()); ch('\n');
    halt_with(0x7f);
}

/* Print the fault the last access took; check it against (err, cr2). */
static void fault_is(const char *what, uint32_t n0, uint32_t err, uint32_t addr)
{
    str("  "); str(what); str(": ");
    if (pf.n == n0) { str("no fault  <-- expected one\n"); bad++; return; }
    str("#PF err="); hx(pf.err); str(" cr2="); hx(pf.cr2); str(" eip="); hx(pf.eip);
    if (pf.n != n0 + 1 || pf.err != err || pf.cr2 != addr) {
        str("  <-- expected err="); hx(err); str(" cr2="); hx(addr); str(" one fault, saw "); hx(pf.n - n0);
        bad++;
    }
    ch('\n');
}

/* Probes: the value, or a fault shown. */
static uint32_t try_rd(const char *what, uint32_t va, bool should_fault, uint32_t err)
{
    uint32_t n0 = pf.n, v = probe_rd(va);
    if (should_fault) fault_is(what, n0, err, va);
    else if (probe_hit || pf.n != n0) { str("  "); str(what); str(": faulted  <-- expected none\n"); bad++; }
    return v;
}
static void try_wr(const char *what, uint32_t va, uint32_t v, bool should_fault, uint32_t err)
{
    uint32_t n0 = pf.n;
    probe_wr(va, v);
    if (should_fault) fault_is(what, n0, err, va);
    else if (probe_hit || pf.n != n0) { str("  "); str(what); str(": faulted  <-- expected none\n"); bad++; }
}

static void run_user(struct ustate *u)
{
    ucur = u;
    enter_user(u);
    ucur = 0;
}

/* ---- the tests --------------------------------------------------------------------------- */

/* A and D on plain reads and writes, on the PTE and the PDE. */
static void t_ad(void)
{
    head("accessed and dirty");
    uint32_t va = TVA(1);
    uint32_t f0 = new_frame(), f1 = new_frame(), f2 = new_frame();
    map(va, f0, PG_P | PG_W);
    map(va + 0x1000, f1, PG_P | PG_W);
    map(va + 0x2000, f2, PG_P);
    uint32_t ptpa = pd[va >> 22] & ~0xfffu;
    chk("pde before", pd[va >> 22], ptpa | 7);
    chk("pte0 before", *pte(va), f0 | 3);
    chk("read", rd(va + 8), tag(f0 + 8));
    chk("pde after read", pd[va >> 22], ptpa | 0x27);
    chk("pte0 after read", *pte(va), f0 | 0x23);
    wr(va + 12, 0x1234);
    chk("pte0 after write", *pte(va), f0 | 0x63);
    wr(va + 0x1000, 0x77);
    chk("pte1 after write only", *pte(va + 0x1000), f1 | 0x63);
    chk("read ro", rd(va + 0x2000), tag(f2));
    chk("pte2 after read", *pte(va + 0x2000), f2 | 0x21);
    try_wr("write ro", va + 0x2004, 1, true, 3);
    chk("pte2 after failed write", *pte(va + 0x2000), f2 | 0x21);
    chk("ro frame unchanged", rd(va + 0x2004), tag(f2 + 4));
    /* The kernel clears A and D (an LRU scan) and flushes the one page. */
    *pte(va) = f0 | 3;
    invlpg(va);
    chk("read after clearing", rd(va + 12), 0x1234);
    chk("pte0 A again", *pte(va), f0 | 0x23);
    wr(va + 16, 5);
    chk("pte0 D again", *pte(va), f0 | 0x63);
    /* The PDE's A, cleared, comes back on the next walk; its bit 6 is never set. */
    pd[va >> 22] = ptpa | 7;
    invlpg(va + 0x1000);
    wr(va + 0x1004, 9);
    chk("pde A again", pd[va >> 22], ptpa | 0x27);
}

/* A in a PDE whose walk then fails at the PTE (not present, or a protection fault). */
static void t_pde_fault(void)
{
    head("accessed bit of a directory entry on a failed walk");
    uint32_t va = TVA(2);
    uint32_t f = new_frame();
    (void)pte(va);
    map(va + 0x1000, f, PG_P);
    uint32_t ptpa = pd[va >> 22] & ~0xfffu;
    pd[va >> 22] = ptpa | 7;
    invlpg(va);
    invlpg(va + 0x1000);
    try_rd("read, pte not present", va + 0x10, true, 0);
    val("pde seen by the handler", pf.pde);
    chk("pde after", pd[va >> 22], ptpa | 0x27);
    pd[va >> 22] = ptpa | 7;
    invlpg(va + 0x1000);
    try_wr("write, pte read-only", va + 0x1010, 3, true, 3);
    chk("pde after", pd[va >> 22], ptpa | 0x27);
    chk("pte after", *pte(va + 0x1000), f | 1);
    /* Not present at the PDE: nothing to set. */
    try_rd("read, pde not present", TVA(3) + 0x5000, true, 0);
    chk("pde still 0", pd[TVA(3) >> 22], 0);
}

/* Instruction fetches set A (not D), on both pages of an instruction that straddles them. */
static void t_fetch(void)
{
    head("instruction fetch");
    uint32_t va = TVA(3);
    uint32_t fa = new_frame(), fb = new_frame();
    static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xc3 };     /* mov eax, imm; ret */
    memcpy((void *)fa, code, sizeof code);
    memcpy((void *)(fa + 0xffe), code, 2);
    memcpy((void *)fb, code + 2, 4);
    map(va, fa, PG_P);
    map(va + 0x1000, fb, PG_P);
    uint32_t r = ((uint32_t (*)(void))va)();
    chk("called", r, 0x12345678);
    chk("pte after fetch", *pte(va), fa | 0x21);
    chk("pte of next, not fetched", *pte(va + 0x1000), fb | 1);
    r = ((uint32_t (*)(void))(va + 0xffe))();
    chk("straddling call", r, 0x12345678);
    chk("pte b after straddle", *pte(va + 0x1000), fb | 0x21);
    /* An LRU scan clears A on both code pages; running the code sets it again, only where a
     * fetch went (the first call stays on page a). */
    *pte(va) = fa | PG_P;
    *pte(va + 0x1000) = fb | PG_P;
    invlpg(va);
    invlpg(va + 0x1000);
    chk("after clearing A, called", ((uint32_t (*)(void))va)(), 0x12345678);
    chk("pte a", *pte(va), fa | 0x21);
    chk("pte b, not fetched", *pte(va + 0x1000), fb | 0x01);
    chk("straddling again", ((uint32_t (*)(void))(va + 0xffe))(), 0x12345678);
    chk("pte b", *pte(va + 0x1000), fb | 0x21);
}

/* REP MOVS across pages: A on the sources, A and D on the destinations. */
static void t_movs_ad(void)
{
    head("rep movs across pages");
    uint32_t va = TVA(4);
    uint32_t f[10];
    for (int i = 0; i < 10; i++) { f[i] = new_frame(); map(va + i * 0x1000u, f[i], PG_P | PG_W); }
    uint32_t left = k_movsb_rep(va + 0x2f00, va + 0xf80, 0x180);
    chk("movsb ecx", left, 0);
    chk("src0", *pte(va), f[0] | 0x23);
    chk("src1", *pte(va + 0x1000), f[1] | 0x23);
    chk("dst0", *pte(va + 0x2000), f[2] | 0x63);
    chk("dst1", *pte(va + 0x3000), f[3] | 0x63);
    chk("copied first", rd(va + 0x2f00), tag(f[0] + 0xf80));
    chk("copied across", rd(va + 0x3000), tag(f[1] + 0x080));
    chk("copied last", rd(va + 0x307c), tag(f[1] + 0x0fc));
    left = k_movsd_rep(va + 0x7800, va + 0x4800, 0x800);
    chk("movsd ecx", left, 0);
    for (int i = 4; i < 10; i++) {
        char k[] = "pte 0";
        k[4] = (char)('0' + i);
        chk(k, *pte(va + i * 0x1000u), f[i] | (i < 7 ? 0x23 : 0x63));
    }
    chk("copied middle", rd(va + 0x8800), tag(f[5] + 0x800));
}

/* A and D of a 4 MiB page live in its PDE. */
static void t_big(void)
{
    head("4 MiB page");
    uint32_t va = TVA(5);
    pd[va >> 22] = BIG_A | PG_PS | PG_P | PG_W;
    ((volatile uint32_t *)BIG_A)[0x123000 / 4] = 0xb16a0001;
    chk("read", rd(va + 0x123000), 0xb16a0001);
    chk("pde after read", pd[va >> 22], BIG_A | 0xa3);
    wr(va + 0x3ffffc, 0xb16a0002);
    chk("pde after write", pd[va >> 22], BIG_A | 0xe3);
    chk("written at the end", ((volatile uint32_t *)BIG_A)[0x3ffffc / 4], 0xb16a0002);
    pd[va >> 22] = BIG_A | PG_PS | PG_P | PG_W;
    invlpg(va + 0x200000);                       /* any address in the page flushes it */
    chk("read again", rd(va + 0x123000), 0xb16a0001);
    chk("pde A only", pd[va >> 22], BIG_A | 0xa3);
    try_rd("past a 4 MiB page, no pde", va + 0x400000, true, 0);
}

/* PS in a PDE means a page table when CR4.PSE is off: the same entry maps both ways. */
static void t_pse_off(void)
{
    head("CR4.PSE off");
    uint32_t va = TVA(6);
    volatile uint32_t *t = (volatile uint32_t *)BIG_B;
    for (int i = 0; i < 1024; i++) t[i] = 0;
    t[0] = (BIG_B + 0x2000) | PG_P | PG_W;
    ((volatile uint32_t *)(BIG_B + 0x1000))[0] = 0x0ddba11;
    ((volatile uint32_t *)(BIG_B + 0x2000))[0] = 0xb16b00b5;
    pd[va >> 22] = BIG_B | PG_PS | PG_P | PG_W;
    chk("pse on: word 0", rd(va), (BIG_B + 0x2000) | 3);
    chk("pse on: page 1", rd(va + 0x1000), 0x0ddba11);
    uint32_t c4 = cr4();
    pf_no_walk = true;
    set_cr4(c4 & ~CR4_PSE);
    reload_cr3();
    uint32_t through = rd(va);
    wr(va + 4, 0x5e5e5e5e);
    uint32_t n0 = pf.n;
    uint32_t v1 = probe_rd(va + 0x1000);
    uint32_t c4off = cr4();
    set_cr4(c4);
    reload_cr3();
    pf_no_walk = false;
    chk("cr4.pse off", c4off & CR4_PSE, 0);
    chk("pse off: through the table", through, 0xb16b00b5);
    fault_is("pse off: page 1 has no entry", n0, 0, va + 0x1000);
    (void)v1;
    chk("pse on: the entry, A and D set", rd(va), (BIG_B + 0x2000) | 0x63);
    chk("pse on: the word written", rd(va + 0x2004), 0x5e5e5e5e);
    chk("pde", pd[va >> 22], BIG_B | 0xa3);
}

/* Global pages: INVLPG, toggling PGE, and CR3 with PGE off all drop them; code too. */
static void t_pge(void)
{
    head("global pages");
    set_cr4(cr4() | CR4_PGE);
    chk("cr4 pse|pge", cr4() & (CR4_PSE | CR4_PGE), CR4_PSE | CR4_PGE);
    uint32_t va = TVA(7);
    uint32_t f1 = new_frame(), f2 = new_frame();
    map(va, f1, PG_P | PG_W | PG_G);
    chk("global read", rd(va), tag(f1));
    *pte(va) = f2 | PG_P | PG_W | PG_G;
    invlpg(va);
    chk("after invlpg", rd(va), tag(f2));
    *pte(va) = f1 | PG_P | PG_W | PG_G;
    set_cr4(cr4() & ~CR4_PGE);
    set_cr4(cr4() | CR4_PGE);
    chk("after pge toggle", rd(va), tag(f1));
    *pte(va) = f2 | PG_P | PG_W | PG_G;
    set_cr4(cr4() & ~CR4_PGE);
    reload_cr3();
    chk("after cr3 with pge off", rd(va), tag(f2));
    set_cr4(cr4() | CR4_PGE);
    chk("pte", *pte(va), f2 | 0x123);
    map(va + 0x1000, f1, PG_P | PG_W);
    chk("local read", rd(va + 0x1000), tag(f1));
    *pte(va + 0x1000) = f2 | PG_P | PG_W;
    reload_cr3();
    chk("local after cr3", rd(va + 0x1000), tag(f2));

    /* Global code: remapped, and rewritten through another mapping of its frame. */
    uint32_t c1 = new_frame(), c2 = new_frame();
    static const uint8_t one[] = { 0xb8, 1, 0, 0, 0, 0xc3 }, two[] = { 0xb8, 2, 0, 0, 0, 0xc3 };
    memcpy((void *)c1, one, sizeof one);
    memcpy((void *)c2, two, sizeof two);
    uint32_t cva = va + 0x2000;
    map(cva, c1, PG_P | PG_G);
    uint32_t (*fn)(void) = (uint32_t (*)(void))cva;
    chk("code 1", fn(), 1);
    *pte(cva) = c2 | PG_P | PG_G;
    invlpg(cva);
    chk("code 2 after invlpg", fn(), 2);
    *pte(cva) = c1 | PG_P | PG_G;
    set_cr4(cr4() & ~CR4_PGE);
    set_cr4(cr4() | CR4_PGE);
    chk("code 1 after pge toggle", fn(), 1);
    ((volatile uint8_t *)c1)[1] = 3;                /* through the identity map */
    chk("code rewritten through an alias", fn(), 3);

    /* A global 4 MiB page replaced and flushed by INVLPG of another address in it. */
    uint32_t bva = TVA(8);
    ((volatile uint32_t *)BIG_A)[0x10] = 0xa0a0a0a0;
    ((volatile uint32_t *)BIG_B)[0x10] = 0xb0b0b0b0;
    pd[bva >> 22] = BIG_A | PG_PS | PG_G | PG_P | PG_W;
    chk("big global A", rd(bva + 0x40), 0xa0a0a0a0);
    pd[bva >> 22] = BIG_B | PG_PS | PG_G | PG_P | PG_W;
    invlpg(bva + 0x3ff000);
    chk("big global B", rd(bva + 0x40), 0xb0b0b0b0);
    chk("pde", pd[bva >> 22], BIG_B | 0x1a3);
}

/* CR0.WP: the kernel's writes to read-only pages. */
static void t_wp(void)
{
    head("CR0.WP");
    uint32_t va = TVA(9);
    uint32_t fk = new_frame(), fu = new_frame(), fp = new_frame();
    map(va, fk, PG_P);
    map(va + 0x1000, fu, PG_P | PG_U);
    uint32_t vp = TVA(10);
    (void)pte_at(vp, PG_P | PG_U);                       /* the directory entry read-only */
    map(vp, fp, PG_P | PG_W | PG_U);
    chk("wp on", cr0() & CR0_WP, CR0_WP);
    try_wr("wp=1 supervisor ro", va + 4, 0x11, true, 3);
    try_wr("wp=1 user ro", va + 0x1004, 0x22, true, 3);
    try_wr("wp=1 ro pde", vp + 4, 0x33, true, 3);
    set_cr0(cr0() & ~CR0_WP);
    chk("wp off", cr0() & CR0_WP, 0);
    try_wr("wp=0 supervisor ro", va + 4, 0x11, false, 0);
    try_wr("wp=0 user ro", va + 0x1004, 0x22, false, 0);
    try_wr("wp=0 ro pde", vp + 4, 0x33, false, 0);
    /* WP is the kernel's: ring 3 still faults on a read-only page */
    uint32_t uc = new_frame(), uro = new_frame();
    memcpy((void *)uc, u_snips, (size_t)(u_snips_end - u_snips));
    map(va + 0x2000, uc, PG_P | PG_U);
    map(va + 0x3000, uro, PG_P | PG_U);
    on_fault_set(va + 0x3000, uro | PG_P | PG_W | PG_U);
    struct ustate u = { .eip = va + 0x2000 + (uint32_t)(us_write - u_snips), .esp = va + 0x2000,
                        .edi = va + 0x3010, .ebx = 0x55, .eflags = 2 };
    uint32_t n0 = pf.n;
    run_user(&u);
    fault_is("wp=0 ring 3 writes a read-only page", n0, 7, va + 0x3010);
    set_cr0(cr0() | CR0_WP);
    chk("written k", rd(va + 4), 0x11);
    chk("written u", rd(va + 0x1004), 0x22);
    chk("written p", rd(vp + 4), 0x33);
    chk("pte k", *pte(va), fk | 0x61);
    chk("pte u", *pte(va + 0x1000), fu | 0x65);
    chk("pte p", *pte(vp), fp | 0x67);
    chk("pde p", pd[vp >> 22] & 0xfff, 0x25);
    try_wr("wp=1 again, dirty ro page", va + 8, 0x44, true, 3);
    chk("unchanged", rd(va + 8), tag(fk + 8));
}

/* Kernel-mode faults and where they leave the instruction. */
static void t_kfaults(void)
{
    head("kernel faults");
    uint32_t va = TVA(11);
    uint32_t n0;
    (void)pte(va);
    try_rd("read, no pte", va + 0x100, true, 0);
    try_wr("write, no pte", va + 0x104, 0, true, 2);
    try_rd("read, no pde", TVA(12) + 0x108, true, 0);

    /* REP MOVSB running into a page that is not there: it stops at the first byte of it. */
    uint32_t s0 = new_frame(), s1 = new_frame(), d0 = new_frame(), d1 = new_frame();
    map(va, s0, PG_P | PG_W);
    map(va + 0x1000, s1, PG_P | PG_W);
    map(va + 0x4000, d0, PG_P | PG_W);
    on_fault_set(va + 0x5000, d1 | PG_P | PG_W);
    n0 = pf.n;
    uint32_t left = k_movsb_rep(va + 0x4f00, va + 0x100, 0x200);
    fault_is("rep movsb, dst page missing", n0, 2, va + 0x5000);
    chk("  eip", pf.eip, (uint32_t)k_movsb_rep_at);
    chk("  ecx", pf.ecx, 0x100);
    chk("  esi", pf.esi, va + 0x200);
    chk("  edi", pf.edi, va + 0x5000);
    chk("  done, ecx", left, 0);
    chk("  copied last", rd(va + 0x50fc), tag(s0 + 0x2fc));

    /* REP STOSD whose second dword straddles into a missing page. */
    uint32_t d2 = new_frame(), d3 = new_frame();
    map(va + 0x6000, d2, PG_P | PG_W);
    on_fault_set(va + 0x7000, d3 | PG_P | PG_W);
    n0 = pf.n;
    left = k_stosd_rep(va + 0x6ffa, 0, 4);
    fault_is("rep stosd, straddles", n0, 2, va + 0x7000);
    chk("  eip", pf.eip, (uint32_t)k_stosd_rep_at);
    chk("  ecx", pf.ecx, 3);
    chk("  edi", pf.edi, va + 0x6ffe);
    chk("  done, ecx", left, 0);
    chk("  first dword", rd(va + 0x6ffa), 0x5a5aa5a5);
    chk("  over the boundary", rd(va + 0x6ffe), 0x5a5aa5a5);
    chk("  last", rd(va + 0x7006), 0x5a5aa5a5);

    /* REP MOVSD whose source runs out. */
    uint32_t s2 = new_frame(), s3 = new_frame(), d4 = new_frame();
    map(va + 0x8000, s2, PG_P | PG_W);
    map(va + 0xa000, d4, PG_P | PG_W);
    on_fault_set(va + 0x9000, s3 | PG_P);
    n0 = pf.n;
    left = k_movsd_rep(va + 0xa000, va + 0x8f00, 0x80);
    fault_is("rep movsd, src page missing", n0, 0, va + 0x9000);
    chk("  ecx", pf.ecx, 0x40);
    chk("  esi", pf.esi, va + 0x9000);
    chk("  edi", pf.edi, va + 0xa100);
    chk("  copied", rd(va + 0xa1fc), tag(s3 + 0xfc));

    /* Backwards (DF=1) into a missing page below: CR2 is the last byte of that page. */
    uint32_t d5 = new_frame(), d6 = new_frame();
    map(va + 0xc000, d5, PG_P | PG_W);
    on_fault_set(va + 0xb000, d6 | PG_P | PG_W);
    n0 = pf.n;
    left = k_movsb_back(va + 0xc07f, va + 0x80ff, 0x100);
    fault_is("rep movsb backwards", n0, 2, va + 0xbfff);
    chk("  ecx", pf.ecx, 0x80);
    chk("  esi", pf.esi, va + 0x807f);
    chk("  edi", pf.edi, va + 0xbfff);
    chk("  done, ecx", left, 0);
    chk("  byte", rdb(va + 0xbf80), rdb(va + 0x8000));

    /* PUSH from memory and POP to memory: ESP as before the instruction. */
    uint32_t d7 = new_frame();
    on_fault_set(va + 0xe000, d7 | PG_P | PG_W);
    n0 = pf.n;
    uint32_t got = k_pushmem(va + 0xe010);
    fault_is("push [mem], page missing", n0, 0, va + 0xe010);
    chk("  eip", pf.eip, (uint32_t)k_pushmem_at);
    chk("  esp as before the push", pf.esp, k_esp_seen);
    chk("  value", got, tag(d7 + 0x10));
    uint32_t d8 = new_frame();
    on_fault_set(va + 0xf000, d8 | PG_P | PG_W);
    n0 = pf.n;
    k_popmem(va + 0xf020, 0xc0ffee);
    fault_is("pop [mem], page missing", n0, 2, va + 0xf020);
    chk("  eip", pf.eip, (uint32_t)k_popmem_at);
    chk("  esp as before the pop", pf.esp, k_esp_seen);
    chk("  value", rd(va + 0xf020), 0xc0ffee);

    /* An instruction that straddles into a missing page; then its first page gone. */
    uint32_t c0 = new_frame(), c1 = new_frame();
    static const uint8_t code[] = { 0xb8, 0x44, 0x33, 0x22, 0x11, 0xc3 };
    memcpy((void *)(c0 + 0xffe), code, 2);
    memcpy((void *)c1, code + 2, 4);
    uint32_t cva = va + 0x10000;
    map(cva, c0, PG_P);
    on_fault_set(cva + 0x1000, c1 | PG_P);
    n0 = pf.n;
    uint32_t r = ((uint32_t (*)(void))(cva + 0xffe))();
    fault_is("straddling instruction, second page missing", n0, 0, cva + 0x1000);
    chk("  eip", pf.eip, cva + 0xffe);
    chk("  result", r, 0x11223344);
    *pte(cva) = 0;
    invlpg(cva);
    on_fault_set(cva, c0 | PG_P);
    n0 = pf.n;
    r = ((uint32_t (*)(void))(cva + 0xffe))();
    fault_is("straddling instruction, first page missing", n0, 0, cva + 0xffe);
    chk("  result", r, 0x11223344);
    /* A call into a page with no entry. */
    uint32_t c2 = new_frame();
    static const uint8_t ret7[] = { 0xb8, 7, 0, 0, 0, 0xc3 };
    memcpy((void *)(c2 + 0x20), ret7, sizeof ret7);
    on_fault_set(cva + 0x2000, c2 | PG_P);
    n0 = pf.n;
    r = ((uint32_t (*)(void))(cva + 0x2020))();
    fault_is("call into a missing page", n0, 0, cva + 0x2020);
    chk("  eip", pf.eip, cva + 0x2020);
    chk("  result", r, 7);
    /* Code whose page goes away and comes back with other code in it. */
    static const uint8_t ret9[] = { 0xb8, 9, 0, 0, 0, 0xc3 };
    uint32_t c3 = new_frame();
    memcpy((void *)(c3 + 0x20), ret9, sizeof ret9);
    *pte(cva + 0x2000) = 0;
    invlpg(cva + 0x2000);
    on_fault_set(cva + 0x2000, c3 | PG_P);
    n0 = pf.n;
    r = ((uint32_t (*)(void))(cva + 0x2020))();
    fault_is("the same call, page gone", n0, 0, cva + 0x2020);
    chk("  result, other code", r, 9);
}

/* User-mode faults: error codes, CR2, where ring 3 stopped. */
static void t_ufaults(void)
{
    head("user faults");
    uint32_t va = TVA(13);
    uint32_t cf = new_frame();
    uint32_t snip_len = (uint32_t)(u_snips_end - u_snips);
    memcpy((void *)cf, u_snips, snip_len);
#define UADDR(sym) (va + (uint32_t)((sym) - u_snips))
    map(va, cf, PG_P | PG_U);
    uint32_t stk = new_frame();
    map(va + 0x3000, stk, PG_P | PG_W | PG_U);
    struct ustate u;
    uint32_t n0;
    uint32_t fa = new_frame(), fb = new_frame(), fc = new_frame(), fd = new_frame(), fe = new_frame();

    /* ring 3 reads a supervisor page */
    map(va + 0x1000, fa, PG_P | PG_W);
    on_fault_set(va + 0x1000, fa | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_read), .esp = va + 0x4000, .esi = va + 0x1010, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("read supervisor page", n0, 5, va + 0x1010);
    chk("  eip", pf.eip, UADDR(us_read));
    chk("  esp", pf.esp, va + 0x4000);
    chk("  value", u.ebx, tag(fa + 0x10));
    /* ring 3 writes a read-only user page */
    map(va + 0x2000, fb, PG_P | PG_U);
    on_fault_set(va + 0x2000, fb | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_write), .esp = va + 0x4000, .edi = va + 0x2020, .ebx = 0xabcd, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("write read-only page", n0, 7, va + 0x2020);
    chk("  written", rd(va + 0x2020), 0xabcd);
    chk("  pte", *pte(va + 0x2000), fb | 0x67);
    /* not present: read, write */
    on_fault_set(va + 0x5000, fc | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_read), .esp = va + 0x4000, .esi = va + 0x5030, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("read missing page", n0, 4, va + 0x5030);
    chk("  pte", *pte(va + 0x5000), fc | 0x27);
    on_fault_set(va + 0x6000, fd | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_write), .esp = va + 0x4000, .edi = va + 0x6040, .ebx = 1, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("write missing page", n0, 6, va + 0x6040);
    chk("  pte", *pte(va + 0x6000), fd | 0x67);
    /* a directory entry without U over a user PTE */
    uint32_t vq = TVA(14);
    (void)pte_at(vq, PG_P | PG_W);
    map(vq, fe, PG_P | PG_W | PG_U);
    on_fault_pde(vq, (pd[vq >> 22] & ~0xfffu) | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_read), .esp = va + 0x4000, .esi = vq + 0x44, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("read, pde supervisor", n0, 5, vq + 0x44);
    chk("  value", u.ebx, tag(fe + 0x44));

    /* CALL whose push runs into a missing stack page below: nothing changed, CR2 = ESP-4. */
    uint32_t s1 = new_frame(), s2 = new_frame();
    map(va + 0x8000, s1, PG_P | PG_W | PG_U);
    on_fault_set(va + 0x7000, s2 | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_call), .esp = va + 0x8000, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("call, stack page missing", n0, 6, va + 0x7ffc);
    chk("  eip (the call)", pf.eip, UADDR(us_call));
    chk("  esp", pf.esp, va + 0x8000);
    chk("  return address seen", u.ebx, UADDR(us_call) + 5);
    chk("  esp after", u.esp, va + 0x8000);
    /* ... and one whose push straddles the boundary */
    uint32_t s3 = new_frame(), s4 = new_frame();
    map(va + 0xa000, s3, PG_P | PG_W | PG_U);
    on_fault_set(va + 0x9000, s4 | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_call), .esp = va + 0xa002, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("call, push straddles", n0, 6, va + 0x9ffe);
    chk("  esp", pf.esp, va + 0xa002);
    chk("  return address seen", u.ebx, UADDR(us_call) + 5);
    chk("  low half in the lower page", rd(va + 0x9ffe) & 0xffff, (UADDR(us_call) + 5) & 0xffff);

    /* An instruction straddling into a missing page, then into a supervisor page. */
    static const uint8_t ins[] = { 0xbb, 0x78, 0x56, 0x34, 0x12, 0x31, 0xc0, 0xcd, 0x80 };
    uint32_t x0 = new_frame(), x1 = new_frame(), x2 = new_frame(), x3 = new_frame();
    memcpy((void *)(x0 + 0xffe), ins, 2);
    memcpy((void *)x1, ins + 2, sizeof ins - 2);
    memcpy((void *)(x2 + 0xffd), ins, 3);
    memcpy((void *)x3, ins + 3, sizeof ins - 3);
    map(va + 0xb000, x0, PG_P | PG_U);
    on_fault_set(va + 0xc000, x1 | PG_P | PG_U);
    u = (struct ustate){ .eip = va + 0xbffe, .esp = va + 0x4000, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("straddle, next page missing", n0, 4, va + 0xc000);
    chk("  eip", pf.eip, va + 0xbffe);
    chk("  ebx", u.ebx, 0x12345678);
    map(va + 0xd000, x2, PG_P | PG_U);
    map(va + 0xe000, x3, PG_P);
    on_fault_set(va + 0xe000, x3 | PG_P | PG_U);
    u = (struct ustate){ .eip = va + 0xdffd, .esp = va + 0x4000, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("straddle, next page supervisor", n0, 5, va + 0xe000);
    chk("  eip", pf.eip, va + 0xdffd);
    chk("  ebx", u.ebx, 0x12345678);
    chk("  pte a", *pte(va + 0xd000), x2 | 0x25);
    chk("  pte b", *pte(va + 0xe000), x3 | 0x25);

    /* REP MOVSB from ring 3 into a supervisor page; REP STOSD into a read-only one. */
    uint32_t m0 = new_frame(), m1 = new_frame(), m2 = new_frame(), m3 = new_frame();
    map(va + 0x10000, m0, PG_P | PG_W | PG_U);
    map(va + 0x11000, m1, PG_P | PG_W);
    on_fault_set(va + 0x11000, m1 | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_movsb), .esp = va + 0x4000, .esi = va + 0x1000, .edi = va + 0x10f80,
                         .ecx = 0x100, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("user rep movsb into a supervisor page", n0, 7, va + 0x11000);
    chk("  ecx", pf.ecx, 0x80);
    chk("  esi", pf.esi, va + 0x1080);
    chk("  edi", pf.edi, va + 0x11000);
    chk("  done", u.ebx, 0);
    chk("  copied", rd(va + 0x1107c), tag(fa + 0xfc));
    map(va + 0x12000, m2, PG_P | PG_W | PG_U);
    map(va + 0x13000, m3, PG_P | PG_U);
    on_fault_set(va + 0x13000, m3 | PG_P | PG_W | PG_U);
    u = (struct ustate){ .eip = UADDR(us_stosd), .esp = va + 0x4000, .edi = va + 0x12ff8, .ecx = 4,
                         .ebx = 0x600df00d, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("user rep stosd into a read-only page", n0, 7, va + 0x13000);
    chk("  ecx", pf.ecx, 2);
    chk("  edi", pf.edi, va + 0x13000);
    chk("  eax", pf.eax, 0x600df00d);
    chk("  stored", rd(va + 0x13004), 0x600df00d);
    chk("  pte src", *pte(va + 0x1000), fa | 0x27);
    chk("  pte dst lo", *pte(va + 0x12000), m2 | 0x67);
    chk("  pte dst hi", *pte(va + 0x13000), m3 | 0x67);

    /* A jump to a missing page. */
    uint32_t j = new_frame();
    memcpy((void *)j, u_snips, snip_len);
    on_fault_set(va + 0x14000, j | PG_P | PG_U);
    u = (struct ustate){ .eip = va + 0x14000 + (uint32_t)(us_done - u_snips), .esp = va + 0x4000, .eflags = 2 };
    n0 = pf.n;
    run_user(&u);
    fault_is("fetch from a missing page", n0, 4, va + 0x14000 + (uint32_t)(us_done - u_snips));
    chk("code pte", *pte(va), cf | 0x25);
#undef UADDR
}

/* A user page the kernel executes too (no SMEP): ring 3 rewrites the code in it, byte by byte
 * and with REP MOVSB, and both rings run what is there now. */
static void t_shared_code(void)
{
    head("code in a user page, run by both rings");
    uint32_t va = TVA(28);
    uint32_t cf = new_frame(), sf = new_frame(), fn = new_frame();
    memcpy((void *)cf, u_snips, (size_t)(u_snips_end - u_snips));
    map(va, cf, PG_P | PG_U);
    map(va + 0x1000, sf, PG_P | PG_W | PG_U);
    /* the shared function: mov eax, imm32; ret, then a second body to copy over it */
    static const uint8_t body[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, 0, 0,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 };
    memcpy((void *)fn, body, sizeof body);
    uint32_t fva = va + 0x2000;
    map(fva, fn, PG_P | PG_W | PG_U);
    uint32_t (*k)(void) = (uint32_t (*)(void))fva;
    chk("kernel runs it", k(), 1);
    chk("  pte", *pte(fva), fn | 0x27);
    struct ustate u = { .eip = va + (uint32_t)(us_write - u_snips), .esp = va + 0x2000, .edi = fva,
                        .ebx = 0x000007b8, .eflags = 2 };       /* mov eax, 7 */
    run_user(&u);
    chk("after ring 3 rewrote it, kernel runs", k(), 7);
    chk("  pte", *pte(fva), fn | 0x67);
    u = (struct ustate){ .eip = va + (uint32_t)(us_movsb - u_snips), .esp = va + 0x2000, .esi = fva + 8,
                         .edi = fva, .ecx = 6, .eflags = 2 };
    run_user(&u);
    chk("after ring 3 copied the other body over it", k(), 2);
    /* ring 3 runs it: entered with a return address to us_keep on its stack */
    wr(va + 0x1ffc, va + (uint32_t)(us_keep - u_snips));
    u = (struct ustate){ .eip = fva, .esp = va + 0x1ffc, .eflags = 2 };
    run_user(&u);
    chk("ring 3 runs it", u.ebx, 2);
    chk("the kernel once more", k(), 2);
}

/* Writes to a live page table, by the instructions kernels use for it. */
static void sse_on(void)
{
    set_cr0((cr0() & ~4u) | 2u);
    set_cr4(cr4() | CR4_OSFXSR);
}

static void t_ptwrites(void)
{
    head("page-table writes");
    uint32_t va = TVA(15);
    uint32_t f[16];
    for (int i = 0; i < 16; i++) f[i] = new_frame();
    for (int i = 0; i < 8; i++) map(va + i * 0x1000u, f[i], PG_P | PG_W);
    for (int i = 0; i < 8; i++) (void)rd(va + i * 0x1000u);
    uint32_t ptpa = pd[va >> 22] & ~0xfffu;
    volatile uint32_t *t = (volatile uint32_t *)ptpa;
    uint32_t old, ok;

    t[0] = f[1] | 3;
    invlpg(va);
    chk("mov", rd(va), tag(f[1]));

    old = f[0] | 3;
    __asm__ volatile("xchg %0, %1" : "+r"(old), "+m"(t[1]) :: "memory");
    invlpg(va + 0x1000);
    chk("xchg old", old, f[1] | 0x23);
    chk("xchg", rd(va + 0x1000), tag(f[0]));

    old = f[2] | 0x23;
    __asm__ volatile("lock cmpxchgl %2, %1; sete %b0" : "=a"(ok), "+m"(t[2]) : "r"(f[3] | 3), "a"(old) : "memory", "cc");
    invlpg(va + 0x2000);
    chk("cmpxchg ok", ok & 0xff, 1);
    chk("cmpxchg", rd(va + 0x2000), tag(f[3]));
    __asm__ volatile("lock cmpxchgl %2, %1" : "=a"(old), "+m"(t[2]) : "r"(0u), "a"(f[2] | 3) : "memory", "cc");
    chk("cmpxchg fails, loads", old, f[3] | 0x23);

    __asm__ volatile("lock btrl $0, %1; setc %b0" : "=q"(ok), "+m"(t[3]) :: "memory", "cc");
    invlpg(va + 0x3000);
    chk("btr cf", ok & 0xff, 1);
    try_rd("after btr", va + 0x3000, true, 0);
    __asm__ volatile("lock btsl $0, %1; setc %b0" : "=q"(ok), "+m"(t[3]) :: "memory", "cc");
    chk("bts cf", ok & 0xff, 0);
    chk("after bts", try_rd("after bts", va + 0x3000, false, 0), tag(f[3]));

    __asm__ volatile("lock andl $~2, %0" : "+m"(t[4]) :: "memory", "cc");
    invlpg(va + 0x4000);
    try_wr("after and ~W", va + 0x4000, 1, true, 3);
    __asm__ volatile("lock orl $2, %0" : "+m"(t[4]) :: "memory", "cc");
    invlpg(va + 0x4000);
    try_wr("after or W", va + 0x4000, 1, false, 0);
    chk("pte after or", t[4], f[4] | 0x63);

    __asm__ volatile("addl $0x1000, %0" : "+m"(t[5]) :: "memory", "cc");
    invlpg(va + 0x5000);
    chk("add 0x1000", rd(va + 0x5000), tag(f[6]));

    __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)&t[6]) : "r"((uint16_t)((f[6] & 0xffff) | 0x21)) : "memory");
    invlpg(va + 0x6000);
    try_wr("after 16-bit write of the flags", va + 0x6000, 1, true, 3);
    chk("pte", t[6], f[6] | 0x21);

    __asm__ volatile("movb $0, %0" : "=m"(*(volatile uint8_t *)&t[7]) :: "memory");
    invlpg(va + 0x7000);
    try_rd("after byte write", va + 0x7000, true, 0);

    uint32_t n = 8, dst = ptpa, zero = 0;
    __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(zero) : "memory");
    for (int i = 0; i < 8; i++) invlpg(va + i * 0x1000u);
    try_rd("after rep stosd, page 0", va, true, 0);
    try_rd("after rep stosd, page 7", va + 0x7000, true, 0);

    static uint32_t tmpl[8];
    for (int i = 0; i < 8; i++) tmpl[i] = f[8 + i] | PG_P | PG_W;
    n = 8; dst = ptpa;
    uint32_t src = (uint32_t)tmpl;
    __asm__ volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
    chk("rep movsd, page 2", rd(va + 0x2000), tag(f[10]));
    chk("rep movsd, page 7", rd(va + 0x7000), tag(f[15]));

    sse_on();
    static uint32_t four[4] __attribute__((aligned(16)));
    for (int i = 0; i < 4; i++) four[i] = f[i] | PG_P | PG_W;
    __asm__ volatile("movdqu %1, %%xmm0; movdqu %%xmm0, %0" : "=m"(*(volatile uint32_t(*)[4])&t[4]) : "m"(four) : "memory");   /* no SSE in the compiled code */
    for (int i = 4; i < 8; i++) invlpg(va + i * 0x1000u);
    chk("movdqu, page 4", rd(va + 0x4000), tag(f[0]));
    chk("movdqu, page 7", rd(va + 0x7000), tag(f[3]));
    __asm__ volatile("movnti %1, %0; sfence" : "=m"(t[0]) : "r"(f[9] | 3) : "memory");
    invlpg(va);
    chk("movnti", rd(va), tag(f[9]));

    uint32_t lo = f[5] | 3, hi = f[6] | 3, elo = t[2], ehi = t[3];
    __asm__ volatile("lock cmpxchg8b %0; sete %b1" : "+m"(*(volatile uint64_t *)&t[2]), "=q"(ok), "+a"(elo), "+d"(ehi)
                     : "b"(lo), "c"(hi) : "memory", "cc");
    invlpg(va + 0x2000); invlpg(va + 0x3000);
    chk("cmpxchg8b ok", ok & 0xff, 1);
    chk("cmpxchg8b, page 2", rd(va + 0x2000), tag(f[5]));
    chk("cmpxchg8b, page 3", rd(va + 0x3000), tag(f[6]));

    /* From a read-only alias of the table, with WP off. */
    uint32_t alias = va + 0x20000;
    map(alias, ptpa, PG_P);
    set_cr0(cr0() & ~CR0_WP);
    wr(alias + 4, f[12] | 3);
    set_cr0(cr0() | CR0_WP);
    invlpg(va + 0x1000);
    chk("through a read-only alias, wp off", rd(va + 0x1000), tag(f[12]));
    try_wr("the alias with wp on", alias + 4, 0, true, 3);

    /* From ring 3, through a user-writable mapping of the table: a not-present entry made
     * present needs no flush. */
    uint32_t uc = new_frame(), us = new_frame();
    memcpy((void *)uc, u_snips, (size_t)(u_snips_end - u_snips));
    map(va + 0x30000, uc, PG_P | PG_U);
    map(va + 0x31000, us, PG_P | PG_W | PG_U);
    map(va + 0x32000, ptpa, PG_P | PG_W | PG_U);
    struct ustate u = { .eip = va + 0x30000 + (uint32_t)(us_write - u_snips), .esp = va + 0x32000,
                        .edi = va + 0x32000 + 9 * 4, .ebx = f[13] | PG_P | PG_U, .eflags = 2 };
    run_user(&u);
    u = (struct ustate){ .eip = va + 0x30000 + (uint32_t)(us_read - u_snips), .esp = va + 0x32000,
                         .esi = va + 0x9000 + 0x18, .eflags = 2 };
    uint32_t n0 = pf.n;
    run_user(&u);
    chk("user wrote a pte, then read through it", u.ebx, tag(f[13] + 0x18));
    chk("  faults", pf.n - n0, 0);
    chk("  the pte", t[9], f[13] | 0x25);
    /* and the kernel makes an entry present without a flush too */
    t[10] = f[14] | PG_P;
    chk("kernel, not-present to present", rd(va + 0xa000), tag(f[14]));

    /* The directory entry moved to another table. */
    uint32_t t2 = new_pt();
    for (int i = 0; i < 4; i++) ((volatile uint32_t *)t2)[i] = f[12 + i] | PG_P | PG_W;
    pd[va >> 22] = t2 | 7;
    for (int i = 0; i < 4; i++) invlpg(va + i * 0x1000u);
    chk("other table, page 0", rd(va), tag(f[12]));
    chk("other table, page 3", rd(va + 0x3000), tag(f[15]));
    chk("pde", pd[va >> 22], t2 | 0x27);
}

/* Reads of a live page table by instructions a compiler emits (CMOV, IMUL, BSF, MUL, XLAT,
 * FILD, SSE) and string instructions kernels use on tables (REPNE SCASD to find a free
 * entry, REPE CMPSD to compare two tables), and a shift applied to an entry in place. */
static void t_ptreads(void)
{
    head("page-table reads");
    uint32_t va = TVA(26), vb = TVA(27);
    uint32_t f[4];
    for (int i = 0; i < 4; i++) f[i] = new_frame();
    for (int i = 0; i < 3; i++) { map(va + i * 0x1000u, f[i], PG_P | PG_W); map(vb + i * 0x1000u, f[i], PG_P | PG_W); }
    for (int i = 0; i < 3; i++) { (void)rd(va + i * 0x1000u); (void)rd(vb + i * 0x1000u); }
    volatile uint32_t *t = (volatile uint32_t *)(pd[va >> 22] & ~0xfffu), *u = (volatile uint32_t *)(pd[vb >> 22] & ~0xfffu);
    uint32_t r, one = 1, z;
    __asm__ volatile("test %2, %2; cmovnz %1, %0" : "=r"(r) : "m"(t[1]), "r"(one), "0"(0u) : "cc");
    chk("cmovnz", r, f[1] | 0x23);
    __asm__ volatile("imul %1, %0" : "=r"(r) : "m"(t[2]), "0"(3u) : "cc");
    chk("imul", r, (f[2] | 0x23) * 3u);
    __asm__ volatile("bsf %1, %0" : "=r"(r) : "m"(t[0]) : "cc");
    chk("bsf", r, 0);
    uint32_t hi;
    __asm__ volatile("mull %2" : "=a"(r), "=d"(hi) : "m"(t[1]), "0"(0x10u) : "cc");
    chk("mul", r, (f[1] | 0x23) << 4);
    __asm__ volatile("xlatb" : "=a"(r) : "b"((uint32_t)t), "0"(4u));
    chk("xlat", r & 0xff, (f[1] | 0x23) & 0xff);
    uint32_t out;
    __asm__ volatile("fildl %1; fistpl %0" : "=m"(out) : "m"(t[2]));
    chk("fild", out, f[2] | 0x23);
    sse_on();
    uint32_t four[4];
    __asm__ volatile("movdqu %1, %%xmm1; movdqu %%xmm1, %0" : "=m"(four) : "m"(*(volatile uint32_t(*)[4])&t[0]));
    chk("movdqu", four[2], f[2] | 0x23);
    uint32_t di = (uint32_t)t, cnt = 1024;
    __asm__ volatile("cld; repne scasl" : "+D"(di), "+c"(cnt) : "a"(0u) : "cc", "memory");
    chk("repne scasd: first free entry", (di - (uint32_t)t) / 4 - 1, 3);
    uint32_t si = (uint32_t)t;
    di = (uint32_t)u; cnt = 1024;
    __asm__ volatile("cld; repe cmpsl; setne %b0" : "=q"(z), "+S"(si), "+D"(di), "+c"(cnt) :: "cc", "memory");
    chk("repe cmpsd: tables equal", (z & 0xff) == 0 && cnt == 0, 1);
    u[3] = f[3] | PG_P;
    si = (uint32_t)t; di = (uint32_t)u; cnt = 1024;
    __asm__ volatile("cld; repe cmpsl; setne %b0" : "=q"(z), "+S"(si), "+D"(di), "+c"(cnt) :: "cc", "memory");
    chk("repe cmpsd: first difference", (si - (uint32_t)t) / 4 - 1, 3);
    __asm__ volatile("shll $1, %0; shrl $1, %0" : "+m"(t[2]) :: "cc");
    chk("shl, shr in place", t[2], f[2] | 0x23);
    __asm__ volatile("rolw $8, %0; rolw $8, %0" : "+m"(*(volatile uint16_t *)&t[1]) :: "cc");
    chk("rol in place", t[1], f[1] | 0x23);
    invlpg(va + 0x1000); invlpg(va + 0x2000);
    chk("still mapped", rd(va + 0x2000), tag(f[2]));
}

/* A page-table write single-stepped by the kernel itself (EFLAGS.TF): the #DB comes after
 * the write, the entry is written, and so for a write that faults first. */
extern char tf_mov_at[], tf_mov_next[], tf_stos_at[], tf_cmov_next[];
static void t_tf(void)
{
    head("page-table writes under TF");
    uint32_t va = TVA(33);
    uint32_t f0 = new_frame(), f1 = new_frame();
    map(va, f0, PG_P | PG_W);
    (void)rd(va);
    volatile uint32_t *t = (volatile uint32_t *)(pd[va >> 22] & ~0xfffu);
    db_catch = true;
    uint32_t n0 = db_n;
    __asm__ volatile("pushf; orl $0x100, (%%esp); popf\n"
                     ".globl tf_mov_at, tf_mov_next\n"
                     "tf_mov_at: movl %1, (%0)\n"
                     "tf_mov_next: nop"
                     :: "r"(&t[0]), "r"(f1 | PG_P | PG_W) : "memory", "cc");
    chk("one #DB", db_n - n0, 1);
    chk("  after the write", db_eip, (uint32_t)tf_mov_next);
    chk("  DR6.BS", db_dr6, 0x4000);
    invlpg(va);
    chk("the entry took", rd(va), tag(f1));
    /* REP STOSD over two entries under TF: the #DB comes after the first iteration, with EIP
     * still on the instruction (the handler clears TF, the rest runs on). */
    n0 = db_n;
    uint32_t di = (uint32_t)&t[1], c = 2;
    __asm__ volatile("pushf; orl $0x100, (%%esp); popf\n"
                     ".globl tf_stos_at\n"
                     "tf_stos_at: rep stosl"
                     : "+D"(di), "+c"(c) : "a"(f0 | PG_P) : "memory", "cc");
    chk("rep stosd: #DBs", db_n - n0, 1);
    chk("  at the instruction", db_eip, (uint32_t)tf_stos_at);
    chk("  ecx", c, 0);
    chk("  entries", t[1] ^ t[2], 0);
    /* a CMOV read of an entry under TF */
    n0 = db_n;
    uint32_t got = 0;
    __asm__ volatile("cmpl %0, %0; pushf; orl $0x100, (%%esp); popf\n"
                     ".globl tf_cmov_at, tf_cmov_next\n"
                     "tf_cmov_at: cmovz %1, %0\n"
                     "tf_cmov_next: nop"
                     : "+r"(got) : "m"(t[1]) : "cc", "memory");
    chk("cmov: #DBs", db_n - n0, 1);
    chk("  after it", db_eip, (uint32_t)tf_cmov_next);
    chk("  value", got, f0 | PG_P);
    db_catch = false;
    chk("through entry 2", rd(va + 0x2000), tag(f0));
}

/* A directory entry turned from a table into a 4 MiB page and back. */
static void t_mixed(void)
{
    head("4 KiB and 4 MiB in one slot");
    uint32_t va = TVA(16);
    uint32_t f[4];
    for (int i = 0; i < 4; i++) { f[i] = new_frame(); map(va + i * 0x1000u, f[i], PG_P | PG_W); }
    uint32_t ptpa = pd[va >> 22] & ~0xfffu;
    chk("small", rd(va + 0x2000), tag(f[2]));
    pd[va >> 22] = BIG_A | PG_PS | PG_P | PG_W;
    reload_cr3();
    ((volatile uint32_t *)BIG_A)[0x2000 / 4] = 0xb1600002;
    ((volatile uint32_t *)BIG_A)[0x1000 / 4] = 0xb1600001;
    chk("big after cr3", rd(va + 0x2000), 0xb1600002);
    pd[va >> 22] = ptpa | 7;
    invlpg(va + 0x3000);
    chk("small after invlpg elsewhere", rd(va + 0x1000), tag(f[1]));
    pd[va >> 22] = BIG_A | PG_PS | PG_P | PG_W;
    for (int i = 0; i < 4; i++) invlpg(va + i * 0x1000u);       /* every small page it held */
    chk("big after invlpg", rd(va + 0x1000), 0xb1600001);
    pd[va >> 22] = ptpa | 0x27;
    invlpg(va);
    chk("small again", rd(va + 0x3000), tag(f[3]));
}

/* A page table's frame becomes a data page and then a table again; a second page directory
 * is used, dropped, used as data, and made a directory again. */
static void t_reuse(void)
{
    head("tables reused as data");
    uint32_t va = TVA(17);
    uint32_t f[4];
    for (int i = 0; i < 4; i++) { f[i] = new_frame(); map(va + i * 0x1000u, f[i], PG_P | PG_W); (void)rd(va + i * 0x1000u); }
    uint32_t ptpa = pd[va >> 22] & ~0xfffu;
    pd[va >> 22] = 0;
    reload_cr3();
    try_rd("table gone", va, true, 0);
    uint32_t dva = TVA(18);
    map(dva, ptpa, PG_P | PG_W);
    uint32_t n = 1024, dst = dva, pat = 0x600dda7a;
    __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(pat) : "memory");
    for (uint32_t i = 0; i < 1024; i += 64) wr(dva + i * 4, i);
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 1024; i++) sum += rd(dva + i * 4);
    chk("sum of the old table as data", sum, 0x600dda7au * 1008u + 7680u);
    for (uint32_t i = 0; i < 1024; i++) wr(dva + i * 4, 0);
    for (uint32_t i = 0; i < 4; i++) wr(dva + i * 4, f[3 - i] | PG_P | PG_W);
    pd[va >> 22] = ptpa | 7;
    chk("a table again, page 0", rd(va), tag(f[3]));
    chk("a table again, page 3", rd(va + 0x3000), tag(f[0]));
    wr(dva + 4, 0);
    invlpg(va + 0x1000);
    try_rd("entry cleared through the data mapping", va + 0x1000, true, 0);

    /* A second address space: a copy of the directory with one more page, used and dropped. */
    uint32_t pd2 = new_pt();
    memcpy((void *)pd2, (const void *)pd, 4096);
    uint32_t t2 = new_pt(), g = new_frame();
    ((volatile uint32_t *)t2)[0] = g | PG_P | PG_W;
    uint32_t ova = TVA(19);
    ((volatile uint32_t *)pd2)[ova >> 22] = t2 | 7;
    set_cr3(pd2);
    chk("in the second space", rd(ova), tag(g));
    wr(ova + 4, 0xabad1dea);
    set_cr3(PD_PA);
    try_rd("not in the first", ova, true, 0);
    /* its directory becomes a data page, written by the kernel, then a directory again */
    map(dva + 0x1000, pd2, PG_P | PG_W);
    n = 1024; dst = dva + 0x1000; pat = 0x0d0d0d0d;
    __asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(pat) : "memory");
    sum = 0;
    for (uint32_t i = 0; i < 1024; i++) sum += rd(dva + 0x1000 + i * 4);
    chk("old directory as data", sum, 0x0d0d0d0du * 1024u);
    memcpy((void *)(dva + 0x1000), (const void *)pd, 4096);
    wr(dva + 0x1000 + (ova >> 22) * 4, t2 | 7);
    ((volatile uint32_t *)t2)[1] = f[0] | PG_P;
    set_cr3(pd2);
    chk("a directory again", rd(ova + 4), 0xabad1dea);
    chk("its new page", rd(ova + 0x1000), tag(f[0]));
    set_cr3(PD_PA);
}

/* Instructions the kernel runs that read or write memory besides their data: string port
 * I/O, descriptor-table loads and stores, an unaligned write across two table entries, a
 * string store that runs off a page table into a missing page, and the stack a ring 3 trap
 * lands on. Their A and D bits and their faults. */
static void t_emul(void)
{
    head("other instructions' memory");
    uint32_t va = TVA(21);
    uint32_t f[8];
    for (int i = 0; i < 8; i++) f[i] = new_frame();
    map(va, f[0], PG_P | PG_W);
    map(va + 0x1000, f[1], PG_P | PG_W);
    /* OUTSB from a fresh page to the UART's scratch register, INSB back across pages. */
    uint32_t n = 16, src = va + 0xff8;
    __asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(0x3ff) : "memory");
    chk("outsb src pte 0", *pte(va), f[0] | 0x23);
    chk("outsb src pte 1", *pte(va + 0x1000), f[1] | 0x23);
    chk("scratch", inb(0x3ff), (uint8_t)(tag(f[1] + 4) >> 24));
    map(va + 0x2000, f[2], PG_P | PG_W);
    on_fault_set(va + 0x3000, f[3] | PG_P | PG_W);
    uint32_t n0 = pf.n, dst = va + 0x2ffc;
    n = 8;
    __asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(0x3ff) : "memory");
    fault_is("rep insb into a missing page", n0, 2, va + 0x3000);
    chk("  ecx", pf.ecx, 4);
    chk("  edi", pf.edi, va + 0x3000);
    chk("  done, ecx", n, 0);
    chk("  bytes", rd(va + 0x3000), 0x5c5c5c5c);
    chk("  pte dst 0", *pte(va + 0x2000), f[2] | 0x63);

    /* SGDT/SIDT into missing and read-only pages, LGDT/LIDT from a straddling operand. */
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) g0;
    __asm__ volatile("sgdt %0" : "=m"(g0));
    map(va + 0x4000, f[4], PG_P | PG_W);
    on_fault_set(va + 0x5000, f[5] | PG_P | PG_W);
    n0 = pf.n;
    __asm__ volatile("sgdt (%0)" :: "r"(va + 0x4ffe) : "memory");
    fault_is("sgdt, second page missing", n0, 2, va + 0x5000);
    n0 = pf.n;
    __asm__ volatile("sgdt (%0)" :: "r"(va + 0x4ffe) : "memory");
    chk("sgdt across, no fault", pf.n - n0, 0);
    chk("  limit", *(volatile uint16_t *)(va + 0x4ffe), g0.lim);
    chk("  base", rd(va + 0x5000), g0.base);
    map(va + 0x6000, f[6], PG_P);
    on_fault_set(va + 0x6000, f[6] | PG_P | PG_W);
    n0 = pf.n;
    __asm__ volatile("sidt (%0)" :: "r"(va + 0x6010) : "memory");
    fault_is("sidt into a read-only page", n0, 3, va + 0x6010);
    *pte(va + 0x5000) = 0;
    invlpg(va + 0x5000);
    on_fault_set(va + 0x5000, f[5] | PG_P | PG_W);
    n0 = pf.n;
    __asm__ volatile("lgdt (%0)" :: "r"(va + 0x4ffe) : "memory");
    fault_is("lgdt, second page missing", n0, 0, va + 0x5000);
    __asm__ volatile("sgdt %0" : "=m"(g0));
    chk("gdt base kept", g0.base, (uint32_t)gdt);

    /* One dword written across two page-table entries. */
    uint32_t tv = TVA(22);
    map(tv, f[0], PG_P | PG_W);
    map(tv + 0x1000, f[1], PG_P | PG_W);
    (void)rd(tv); (void)rd(tv + 0x1000);
    volatile uint32_t *t = (volatile uint32_t *)(pd[tv >> 22] & ~0xfffu);
    /* entry 0's high half -> 48 MiB (the 4 MiB frame BIG_A), entry 1's flags -> not present */
    uint32_t moved = (BIG_A & 0xffff0000u) | (f[0] & 0xf000u);
    ((volatile uint32_t *)moved)[2] = 0x3a0ed008;
    uint32_t v = (BIG_A >> 16) | (((f[1] & 0xffff) | 0x20) << 16);
    __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)((uint32_t)t + 2)) : "r"(v) : "memory");
    invlpg(tv); invlpg(tv + 0x1000);
    chk("entry 0", t[0], moved | 0x23);
    chk("entry 1", t[1], f[1] | 0x20);
    chk("through entry 0", rd(tv + 8), 0x3a0ed008);
    try_rd("through entry 1", tv + 0x1008, true, 0);

    /* REP STOSD off the end of a page table (mapped as data) into a missing page. */
    uint32_t alias = TVA(23);
    map(alias, (uint32_t)t, PG_P | PG_W);
    on_fault_set(alias + 0x1000, f[7] | PG_P | PG_W);
    n0 = pf.n;
    uint32_t left = k_stosd_rep(alias + 0xff8, 0, 4);
    fault_is("rep stosd from a table into a missing page", n0, 2, alias + 0x1000);
    chk("  ecx", pf.ecx, 2);
    chk("  edi", pf.edi, alias + 0x1000);
    chk("  done", left, 0);
    chk("  last entries", t[1022] ^ t[1023], 0);
    chk("  the table's entry 1023", t[1023], 0x5a5aa5a5);
    try_rd("through entry 1023 (its frame is not RAM of ours)", tv + 0x3ff000, false, 0);
    t[1022] = t[1023] = 0;
    invlpg(tv + 0x3fe000); invlpg(tv + 0x3ff000);
    try_rd("entry 1023 cleared", tv + 0x3ff000, true, 0);

    /* The stack a ring 3 INT lands on: a fresh page, its A and D set by the frame. */
    uint32_t kst = TVA(24);
    map(kst, f[3], PG_P | PG_W);
    uint32_t uc = new_frame(), ust = new_frame();
    memcpy((void *)uc, u_snips, (size_t)(u_snips_end - u_snips));
    map(kst + 0x2000, uc, PG_P | PG_U);
    map(kst + 0x3000, ust, PG_P | PG_W | PG_U);
    tss[1] = kst + 0x1000;
    struct ustate u = { .eip = kst + 0x2000 + (uint32_t)(us_done - u_snips), .esp = kst + 0x4000, .eflags = 2 };
    run_user(&u);
    tss[1] = (uint32_t)trap_stack_hi;
    chk("trap stack pte", *pte(kst), f[3] | 0x63);
    chk("frame: user ss", rd(kst + 0xffc), 0x23);
    chk("frame: user esp", rd(kst + 0xff8), kst + 0x4000);
    chk("frame: cs", rd(kst + 0xff0), 0x1b);
    chk("frame: vector", rd(kst + 0xfe4), 0x80);
}

/* The CPU's own write to a descriptor table: the busy bit LTR sets in the TSS descriptor, with
 * the GDT on a read-only page (CR0.WP set), then writable. (The accessed bit a segment load
 * sets is the other such write: umbra sets it late and never faults on it; see
 * tests/foreign-pending/pgro_gdt.) */
static void t_implicit(void)
{
    head("LTR and a read-only GDT");
    uint32_t va = TVA(25), f = new_frame();
    volatile uint64_t *g = (volatile uint64_t *)f;
    for (int i = 0; i < 6; i++) g[i] = gdt[i];
    g[6] = 0;
    g[7] = seg((uint32_t)tss, sizeof tss - 1, 0x89, 0);              /* an available TSS */
    map(va, f, PG_P);
    struct { uint16_t lim; uint32_t base; } __attribute__((packed)) r = { 8 * 8 - 1, va }, old;
    __asm__ volatile("sgdt %0" : "=m"(old));
    __asm__ volatile("lgdt %0" :: "m"(r));
    uint32_t n0 = pf.n;
    on_fault_set(va, f | PG_P | PG_W);
    __asm__ volatile("ltr %w0" :: "r"(0x38) : "memory");
    str("  ltr: ");
    if (pf.n == n0) { str("no fault  <-- expected one\n"); bad++; }
    else {
        str("#PF err="); hx(pf.err); str(" in the descriptor: "); str(pf.cr2 - (va + 0x38) < 8 ? "yes" : "no");
        if (pf.err != 3 || pf.cr2 - (va + 0x38) >= 8) { str("  <-- expected err 3 in it"); bad++; }
        ch('\n');
    }
    chk("  tss descriptor's type", (uint32_t)(g[7] >> 40) & 0xff, 0x8b);
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    chk("  tr", tr, 0x38);
    __asm__ volatile("lgdt %0" :: "m"(old) : "memory");
    gdt[5] &= ~(1ull << 41);                    /* back to the first TSS, busy again */
    __asm__ volatile("ltr %w0" :: "r"(0x28) : "memory");
}

/* Address spaces of odd shape: a directory at physical address 0 (as the first Linux had
 * it), CR3 carrying PWT and PCD, one page table under two directory entries with different
 * rights, and a table with an entry that maps the table itself. */
static void t_shapes(void)
{
    head("odd shapes");
    uint32_t w0 = TVA(29);
    map(w0, 0, PG_P | PG_W);                                    /* physical page 0 */
    memcpy((void *)w0, (const void *)pd, 4096);
    uint32_t va = TVA(30), f = new_frame();
    uint32_t t = new_pt();
    ((volatile uint32_t *)t)[0] = f | PG_P | PG_W;
    ((volatile uint32_t *)w0)[va >> 22] = t | PG_P | PG_W;
    set_cr3(0x18);
    uint32_t c3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(c3));
    chk("cr3 with the directory at 0", c3, 0x18);
    chk("read through it", rd(va + 4), tag(f + 4));
    wr(va + 8, 0x0ddc0de);
    chk("its entry, through page 0's mapping", ((volatile uint32_t *)w0)[va >> 22], t | 0x23);
    chk("the table entry", ((volatile uint32_t *)t)[0], f | 0x63);
    ((volatile uint32_t *)t)[0] = 0;
    invlpg(va);
    try_rd("entry cleared", va, true, 0);
    set_cr3(PD_PA | 0x08);
    __asm__ volatile("mov %%cr3, %0" : "=r"(c3));
    chk("cr3 back, with PWT", c3, PD_PA | 0x08);
    try_rd("not mapped in the first space", va, true, 0);
    reload_cr3();

    /* One table under two directory entries: read-write and read-only, user and not. */
    uint32_t a = TVA(31), b = TVA(32), g = new_frame();
    uint32_t t2 = new_pt();
    ((volatile uint32_t *)t2)[1] = g | PG_P | PG_W | PG_U;
    pd[a >> 22] = t2 | PG_P | PG_W;
    pd[b >> 22] = t2 | PG_P | PG_U;
    chk("through the rw entry", rd(a + 0x1000), tag(g));
    chk("through the ro entry", rd(b + 0x1004), tag(g + 4));
    try_wr("write through the ro entry", b + 0x1008, 1, true, 3);
    wr(a + 0x1008, 0x5151);
    chk("written through the rw entry, read through the ro one", rd(b + 0x1008), 0x5151);
    chk("pte", ((volatile uint32_t *)t2)[1], g | 0x67);
    chk("pde a", pd[a >> 22] & 0xfff, 0x23);
    chk("pde b", pd[b >> 22] & 0xfff, 0x25);
    /* the table maps itself at entry 2: its entries are words of page a+0x2000 */
    ((volatile uint32_t *)t2)[2] = t2 | PG_P | PG_W;
    chk("the table through itself", rd(a + 0x2000 + 4), g | 0x67);
    wr(a + 0x2000 + 3 * 4, g | PG_P);                          /* entry 3, through entry 2 */
    chk("entry 3 made through the table's own mapping", rd(a + 0x3000), tag(g));
    wr(a + 0x2000 + 2 * 4, f | PG_P | PG_W);                   /* entry 2 rewrites itself */
    invlpg(a + 0x2000);
    chk("entry 2 now maps another page", rd(a + 0x2000), tag(f));
    chk("entry 2", ((volatile uint32_t *)t2)[2], f | 0x23);
}

/* Paging off and on again. */
static void t_pg_cycle(void)
{
    head("paging off and on");
    uint32_t va = TVA(20);
    uint32_t f = new_frame();
    map(va, f, PG_P | PG_W);
    chk("mapped", rd(va), tag(f));
    uint32_t c0 = cr0();
    set_cr0(c0 & ~CR0_PG);
    uint32_t phys = rd(f + 8);
    *pte(va) = new_frame() | PG_P | PG_W;
    set_cr0(c0);
    chk("physical read", phys, tag(f + 8));
    chk("new mapping", rd(va) == tag(f), 0);
    chk("cr0 pg|wp", cr0() & (CR0_PG | CR0_WP), CR0_PG | CR0_WP);
}

void kmain(uint32_t magic, uint32_t info)
{
    (void)info;
    str("pgmmu: 32-bit paging\n");
    if (magic != 0x2BADB002) { str("not from a Multiboot loader\n"); halt_with(0x7e); }
    tables();
    memset((void *)pd, 0, 4096);
    uint32_t pt0 = new_pt();
    for (uint32_t i = 0; i < 1024; i++) ((volatile uint32_t *)pt0)[i] = (i << 12) | PG_P | PG_W;
    ((volatile uint32_t *)pt0)[0] = 0;                  /* page 0 stays unmapped */
    pd[0] = pt0 | PG_P | PG_W;
    for (uint32_t i = 8; i < 16; i++) pd[i] = (i << 22) | PG_PS | PG_P | PG_W;
    set_cr4(cr4() | CR4_PSE);
    set_cr3(PD_PA);
    set_cr0(cr0() | CR0_PG | CR0_WP);
    t_ad();
    t_pde_fault();
    t_fetch();
    t_movs_ad();
    t_big();
    t_pse_off();
    t_pge();
    t_wp();
    t_kfaults();
    t_ufaults();
    t_shared_code();
    t_ptwrites();
    t_ptreads();
    t_tf();
    t_mixed();
    t_reuse();
    t_emul();
    t_implicit();
    t_shapes();
    t_pg_cycle();
    str("page faults taken: "); hx(pf.n); ch('\n');
    str(bad ? "pgmmu: FAILED " : "pgmmu: all checks passed "); hx(bad); ch('\n');
    halt_with(bad ? 1 : 0);
}

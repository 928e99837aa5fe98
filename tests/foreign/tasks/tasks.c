/* tasks: a 32-bit kernel built on hardware task switching (Intel SDM Vol. 3, 7.3 and 7.4).
 *
 * Every kernel task is a C loop on its own stack (task_loop in entry.asm's stubs), and does
 * what the main task put in act[id] for it next; the entry stubs first keep a snapshot of
 * every register the switch loaded. The main task walks through:
 *   JMP to a TSS, CALL to a TSS and through a GDT task gate, a task gate in the LDT, INT n
 *   through an IDT task gate, #GP and #DF (a kernel stack overflow) handled by tasks, a task
 *   with its own CR3, user-mode tasks (entered by JMP and CALL, leaving by INT n through a DPL 3
 *   task gate, CALL of a DPL 3 TSS, JMP through a DPL 3 gate, and IRET with NT at CPL 3), the
 *   faults of switches refused before they start (old task), the faults of switches that fail
 *   while loading the new task (new task: handled by a task that repairs the TSS and returns
 *   through IRET), an external interrupt through a task gate, nested tasks, CR0.TS and #NM.
 * Everything observable is printed: the snapshots, TSS contents after each switch, the busy
 * bits, back links, NT, TR, LDTR, CR0, CR3, DR7, the error codes and frames of the faults.
 *
 * Where QEMU's TCG (the reference) departs from the SDM the transcript stays away:
 *  - it sets no accessed bit when a task switch loads a segment: every descriptor here is
 *    built with it set;
 *  - a stack segment not present in the new task is #SS in the SDM, #NP in QEMU: not tested;
 *  - a TSS selector with TI set (in a task gate, or naming a TSS in the LDT) is #GP in the
 *    SDM, #TS in QEMU: not tested;
 *  - it ignores the TSS's T flag (no #DB): not set here; it never sets the EXT bit: no fault
 *    is provoked while an external event is delivered;
 *  - a fault after the switch's commit point carries the EIP of the instruction that started
 *    the switch, not the new task's: the task that handles it neither prints nor keeps it (h_task);
 *  - the arithmetic flags a JMP or CALL switch saves and loads can be stale in QEMU when an
 *    instruction just before it changed them: the probes set them with POPF (entry.asm);
 *  - with the old TSS's reserved halves and the back link's upper half, what a CPU writes is
 *    not the SDM's to say: only the architectural 16 bits of each are printed;
 *  - which of several faulty segments faults first differs from the SDM's table: each case
 *    has one fault.
 */
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;

void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n);
void *memset(void *d, int c, unsigned n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }

/* ---- ports and the serial line ------------------------------------------------------ */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define COM1 0x3f8
static void putch(char c)
{
    while (!(inb(COM1 + 5) & 0x20)) {}
    outb(COM1, (u8)c);
}
static void puts_(const char *s) { while (*s) putch(*s++); }
static void hexn(u32 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) putch("0123456789abcdef"[(v >> (i * 4)) & 15]);
}
static void kv(const char *k, u32 v) { putch(' '); puts_(k); putch('='); hexn(v, 8); }
static void kv4(const char *k, u32 v) { putch(' '); puts_(k); putch('='); hexn(v, 4); }
static void nl(void) { putch('\n'); }

static u32 failures, checks;
static void check(int ok, const char *what)
{
    checks++;
    if (ok) return;
    failures++;
    puts_("FAIL: ");
    puts_(what);
    nl();
}

static __attribute__((noreturn)) void finish(void)
{
    puts_("tasks: ");
    hexn(checks, 4);
    puts_(" checks, ");
    hexn(failures, 4);
    puts_(" failed\n");
    outb(0xf4, failures ? 1 : 0);
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- descriptors ----------------------------------------------------------------------- */
struct desc { u32 lo, hi; };

static struct desc mkseg(u32 base, u32 limit, u8 access, u8 flags)
{
    struct desc d;
    if (limit > 0xfffff) { limit >>= 12; flags |= 8; }
    d.lo = (limit & 0xffff) | (base << 16);
    d.hi = ((base >> 16) & 0xff) | ((u32)access << 8) | (limit & 0xf0000) | ((u32)flags << 20) | (base & 0xff000000);
    return d;
}
static struct desc mkgate(u16 sel, u32 off, u8 access)
{
    struct desc d = { (off & 0xffff) | ((u32)sel << 16), (off & 0xffff0000) | ((u32)access << 8) };
    return d;
}

/* Selectors. */
enum {
    KCODE = 0x08, KDATA = 0x10, UCODE = 0x18, UDATA = 0x20,
    T_MAIN = 0x28, T_A = 0x30, T_B = 0x38, T_C = 0x40, T_GP = 0x48, T_DF = 0x50, T_U = 0x58, T_K3 = 0x60,
    T_X = 0x68, T_H = 0x70, LDTSEL = 0x78, G_B = 0x80, G_NP = 0x88, G_BUSY = 0x90, KDATA_NP = 0x98,
    KCODE_XO = 0xa0, KCODE_SMALL = 0xa8, T_D = 0xb0, T_IRQ = 0xc0, T_BAD = 0xc8, T_U2 = 0xd0,
    KCODE_NP = 0xd8, T_A2 = 0xe0, G_FAR = 0xe8, T_U3 = 0xf0, G_AU = 0xf8,
    GDT_N = 32,
};
/* Access bytes (P, DPL, S, type), the accessed bit always set (see the header). */
#define A_KCODE 0x9b
#define A_KDATA 0x93
#define A_UCODE 0xfb
#define A_UDATA 0xf3
#define A_TSS   0x89
#define A_TGATE 0x85
#define A_LDT   0x82

static struct desc gdt[GDT_N] __attribute__((aligned(8)));
static struct desc ldt[4] __attribute__((aligned(8)));
static struct desc idt[256] __attribute__((aligned(8)));

struct __attribute__((packed)) tss {
    u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
    u32 es, cs, ss, ds, fs, gs, ldt;
    u16 trap, iomap;
};
#define TSS_ALIGN __attribute__((aligned(128)))
struct tss tss_main TSS_ALIGN, tss_a TSS_ALIGN, tss_b TSS_ALIGN, tss_c TSS_ALIGN, tss_gp TSS_ALIGN,
    tss_df TSS_ALIGN, tss_u TSS_ALIGN, tss_k3 TSS_ALIGN, tss_x TSS_ALIGN, tss_h TSS_ALIGN, tss_d TSS_ALIGN,
    tss_irq TSS_ALIGN, tss_bad TSS_ALIGN, tss_u2 TSS_ALIGN, tss_a2 TSS_ALIGN, tss_u3 TSS_ALIGN;

/* The TSSs in GDT order, for the busy line. */
static const struct { u16 sel; const char *name; } tsss[] = {
    { T_MAIN, "main" }, { T_A, "A" }, { T_B, "B" }, { T_C, "C" }, { T_GP, "GP" }, { T_DF, "DF" }, { T_U, "U" },
    { T_K3, "K3" }, { T_H, "H" }, { T_D, "D" }, { T_IRQ, "IRQ" }, { T_BAD, "BAD" }, { T_U2, "U2" }, { T_A2, "A2" },
    { T_U3, "U3" },
};

static int busy(u16 sel) { return (gdt[sel >> 3].hi >> 9) & 1; }
static void busy_line(void)
{
    puts_("  busy:");
    for (unsigned i = 0; i < sizeof tsss / sizeof tsss[0]; i++)
        if (busy(tsss[i].sel)) { putch(' '); puts_(tsss[i].name); }
    nl();
}
/* Only these TSSs busy (a list of selectors ending in 0)? */
static int busy_only(const u16 *sels)
{
    for (unsigned i = 0; i < sizeof tsss / sizeof tsss[0]; i++) {
        int want = 0;
        for (const u16 *s = sels; *s; s++) if (*s == tsss[i].sel) want = 1;
        if (busy(tsss[i].sel) != want) return 0;
    }
    return 1;
}

/* ---- what a task sees ------------------------------------------------------------------ */
struct snap { u32 gpr[8], eflags, cs, ss, ds, es, fs, gs, tr, ldtr, cr0, cr3, dr7, top, pad[3]; };
extern struct snap snaps[16];
enum { ID_MAIN, ID_A, ID_B, ID_C, ID_GP, ID_DF, ID_K3, ID_H, ID_D, ID_IRQ, ID_BAD, ID_A2, ID_U, ID_U2, ID_U3, ID_UBAD };

static void print_snap(const char *name, int id, int kernel)
{
    const struct snap *s = &snaps[id];
    static const char *const r[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    puts_("  ");
    puts_(name);
    puts_(" sees:");
    for (int i = 0; i < 8; i++) kv(r[i], s->gpr[i]);
    nl();
    puts_("  ");
    puts_(name);
    puts_(" sees:");
    kv("efl", s->eflags);
    kv4("cs", s->cs); kv4("ss", s->ss); kv4("ds", s->ds); kv4("es", s->es); kv4("fs", s->fs); kv4("gs", s->gs);
    kv4("tr", s->tr); kv4("ldtr", s->ldtr);
    if (kernel) { kv("cr0", s->cr0); kv("cr3", s->cr3); kv("dr7", s->dr7); }
    nl();
}

/* A TSS's fields: the architectural bits (16 of each selector and of the back link); with_eip
 * 0: not its EIP. */
static void dump_tss_eip(const char *name, const struct tss *t, int with_eip)
{
    puts_("  tss ");
    puts_(name);
    puts_(":");
    kv4("link", t->link & 0xffff); kv("esp0", t->esp0); kv4("ss0", t->ss0 & 0xffff); kv("cr3", t->cr3);
    if (with_eip) kv("eip", t->eip);
    kv("efl", t->eflags);
    nl();
    puts_("  tss ");
    puts_(name);
    puts_(":");
    kv("eax", t->eax); kv("ecx", t->ecx); kv("edx", t->edx); kv("ebx", t->ebx);
    kv("esp", t->esp); kv("ebp", t->ebp); kv("esi", t->esi); kv("edi", t->edi);
    nl();
    puts_("  tss ");
    puts_(name);
    puts_(":");
    kv4("es", t->es & 0xffff); kv4("cs", t->cs & 0xffff); kv4("ss", t->ss & 0xffff); kv4("ds", t->ds & 0xffff);
    kv4("fs", t->fs & 0xffff); kv4("gs", t->gs & 0xffff); kv4("ldt", t->ldt & 0xffff);
    nl();
}
static void dump_tss(const char *name, const struct tss *t) { dump_tss_eip(name, t, 1); }

static u32 read_flags(void) { u32 v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }
static u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static u32 read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static u32 read_dr7(void) { u32 v; __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }
static u16 read_tr(void) { u16 v; __asm__ volatile("str %0" : "=r"(v)); return v; }
static u16 read_ldtr(void) { u16 v; __asm__ volatile("sldt %0" : "=r"(v)); return v; }
static void clts(void) { __asm__ volatile("clts"); }

static void cur_line(const char *name)
{
    puts_("  ");
    puts_(name);
    puts_(" now:");
    kv("efl", read_flags()); kv4("tr", read_tr()); kv4("ldtr", read_ldtr()); kv("cr0", read_cr0());
    nl();
}

/* ---- assembly ---------------------------------------------------------------------------- */
void far_jmp(unsigned sel);
void far_call(unsigned sel);
unsigned task_iret_err(void);
void task_iret(void);
void probe_jmp(unsigned sel);
void probe_call(unsigned sel);
extern char probe_after_jmp[], probe_after_call[], probe_jmp_at[];
void int40(void);
void int42(void);
void int44(void);
void iret_nt(void);
void gp_ds(void);
extern char gp_ds_at[];
void overflow(void);
extern char overflow_push[], overflow_recover[];
void irq_window(void);
extern char irq_window_cli[];
int try_(void (*fn)(void));
extern char ktask_entry_1[], ktask_entry_2[], ktask_entry_3[], ktask_entry_4[], ktask_entry_5[], ktask_entry_6[],
    ktask_entry_7[], ktask_entry_8[], ktask_entry_9[], ktask_entry_10[], ktask_entry_11[];
extern char utask_u[], utask_u2[], utask_u3[], utask_ubad[];
extern u32 uflags[4];
extern void isr_0(void), isr_1(void), isr_2(void), isr_3(void), isr_4(void), isr_5(void), isr_6(void), isr_7(void),
    isr_8(void), isr_9(void), isr_10(void), isr_11(void), isr_12(void), isr_13(void), isr_14(void), isr_15(void),
    isr_16(void), isr_17(void), isr_18(void), isr_19(void), isr_20(void), isr_21(void), isr_22(void), isr_23(void),
    isr_24(void), isr_25(void), isr_26(void), isr_27(void), isr_28(void), isr_29(void), isr_30(void), isr_31(void),
    isr_255(void);
static void (*const isrs[32])(void) = {
    isr_0, isr_1, isr_2, isr_3, isr_4, isr_5, isr_6, isr_7, isr_8, isr_9, isr_10, isr_11, isr_12, isr_13, isr_14,
    isr_15, isr_16, isr_17, isr_18, isr_19, isr_20, isr_21, isr_22, isr_23, isr_24, isr_25, isr_26, isr_27, isr_28,
    isr_29, isr_30, isr_31,
};

/* ---- faults the kernel catches (interrupt gates) ----------------------------------------- */
struct frame { u32 gs, fs, es, ds, edi, esi, ebp, esp_, ebx, edx, ecx, eax, vec, err, eip, cs, eflags, uesp, uss; };
struct fault_rec { u32 vec, err, eip, cs; };
static struct fault_rec flog[16];
static volatile u32 nflog;
u32 try_eip, try_esp, user_resume;

void catch_c(struct frame *f);
void catch_c(struct frame *f)
{
    if (nflog < 16) { flog[nflog].vec = f->vec; flog[nflog].err = f->err; flog[nflog].eip = f->eip; flog[nflog].cs = f->cs; nflog++; }
    if ((f->cs & 3) == 3 && user_resume) { f->eip = user_resume; return; }
    if ((f->cs & 3) == 0 && try_eip) { f->eip = try_eip; f->cs = KCODE; return; }
    puts_("unexpected exception");
    kv("vec", f->vec); kv("err", f->err); kv("eip", f->eip); kv("cs", f->cs); kv4("tr", read_tr());
    nl();
    failures++;
    finish();
}

/* Is fault i of the log the one expected? */
static int fault_is(u32 i, u32 vec, u32 err) { return i < nflog && flog[i].vec == vec && flog[i].err == err; }

/* Print the faults caught since the last call; true when exactly the one expected came. */
static int faults(u32 vec, u32 err)
{
    int ok = nflog == 1 && flog[0].vec == vec && flog[0].err == err;
    for (u32 i = 0; i < nflog; i++) {
        puts_("  fault");
        kv4("vec", flog[i].vec); kv4("err", flog[i].err); kv("eip", flog[i].eip); kv4("cs", flog[i].cs);
        nl();
    }
    if (!nflog) puts_("  no fault\n");
    nflog = 0;
    return ok;
}

/* ---- paging: identity below 4 MiB; a guard page; a second directory with one page moved -- */
static u32 pd1[1024] __attribute__((aligned(4096)));
static u32 pd2[1024] __attribute__((aligned(4096)));
static u32 pt1[1024] __attribute__((aligned(4096)));
static u32 pt2[1024] __attribute__((aligned(4096)));
u8 guard_area[2 * 4096] __attribute__((aligned(4096)));
static volatile u32 window_a[1024] __attribute__((aligned(4096)));
static volatile u32 window_b[1024] __attribute__((aligned(4096)));

static void paging_init(void)
{
    for (u32 i = 0; i < 1024; i++) pt1[i] = (i << 12) | 7;
    pt1[(u32)guard_area >> 12] = 0;                     /* the guard page: not present */
    for (u32 i = 0; i < 1024; i++) pt2[i] = pt1[i];
    pt2[(u32)window_a >> 12] = (u32)window_b | 7;         /* pd2 shows window_b at window_a */
    pd1[0] = (u32)pt1 | 7;
    pd2[0] = (u32)pt2 | 7;
    __asm__ volatile("mov %0, %%cr3; mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0"
                     :: "r"(pd1) : "eax", "memory");
}

/* ---- tasks ----------------------------------------------------------------------------- */
static u8 stacks[16][4096] __attribute__((aligned(16)));
static u8 kstacks[16][2048] __attribute__((aligned(16)));
#define STACK_TOP(id) ((u32)stacks[id] + sizeof stacks[0] - 16)
#define KSTACK_TOP(id) ((u32)kstacks[id] + sizeof kstacks[0] - 16)

static void tss_init(struct tss *t, int id, u32 eip, u16 cs, u16 ss, u16 ds, u32 eflags, u32 cr3, u16 ldtsel)
{
    memset(t, 0, sizeof *t);
    u32 tag = 0x01000000u * (u32)id;
    t->eip = eip; t->cs = cs; t->ss = ss; t->ds = t->es = t->fs = t->gs = ds;
    t->eflags = eflags; t->cr3 = cr3; t->ldt = ldtsel;
    t->esp = STACK_TOP(id);
    t->eax = tag | 0xa0a0; t->ecx = tag | 0xc0c0; t->edx = tag | 0xd0d0; t->ebx = tag | 0xb0b0;
    t->ebp = tag | 0xb9b9; t->esi = tag | 0x5151; t->edi = tag | 0xd1d1;
    t->ss0 = KDATA; t->esp0 = KSTACK_TOP(id);
    t->iomap = sizeof *t;                     /* no I/O permission bitmap */
}

static void set_tss_desc(u16 sel, struct tss *t, u8 access)
{
    gdt[sel >> 3] = mkseg((u32)t, sizeof *t - 1, access, 0);
}

typedef void (*action)(void);
static volatile action act[16];

void task_loop(int id);
void task_loop(int id)
{
    for (;;) {
        action a = act[id];
        if (!a) { puts_("a task with nothing to do"); kv4("id", (u32)id); nl(); failures++; finish(); }
        a();
    }
}

static void idt_set(unsigned v, struct desc d) { idt[v] = d; }
static void idt_catch(unsigned v) { idt_set(v, mkgate(KCODE, (u32)isrs[v], 0x8e)); }

/* ---- the tasks' actions ------------------------------------------------------------------ */

/* A after main's JMP: what it sees, what main's TSS kept; back by JMP. */
static void a_first(void)
{
    puts_("A: entered by JMP\n");
    print_snap("A", ID_A, 1);
    busy_line();
    dump_tss("main", &tss_main);
    check(busy_only((const u16[]){ T_A, 0 }), "JMP: only the new task busy");
    check(snaps[ID_A].tr == T_A && (snaps[ID_A].eflags & 0x4000) == 0, "JMP: TR, NT clear");
    check(snaps[ID_A].cr0 & 8, "JMP: CR0.TS set");
    check((snaps[ID_A].dr7 & 0x55) == 0 && (snaps[ID_A].dr7 & 0xaa) == 0xaa, "JMP: DR7 L0-L3 cleared, G0-G3 kept");
    check(tss_main.eip == (u32)probe_after_jmp, "JMP: EIP saved");
    far_jmp(T_MAIN);
}

/* B after CALL: nested; back by IRET. Called again, through a GDT task gate. */
static void b_called(void)
{
    puts_("B: entered by CALL\n");
    print_snap("B", ID_B, 1);
    busy_line();
    dump_tss("main", &tss_main);
    check((snaps[ID_B].eflags & 0x4000) && (tss_b.link & 0xffff) == T_MAIN, "CALL: NT set, back link");
    check(busy_only((const u16[]){ T_MAIN, T_B, 0 }), "CALL: both busy");
    check(tss_main.eip == (u32)probe_after_call, "CALL: EIP saved");
    task_iret();
    puts_("B: called again through the GDT task gate\n");
    cur_line("B");
    kv4("  link", tss_b.link & 0xffff);
    nl();
    busy_line();
    check((read_flags() & 0x4000) && busy_only((const u16[]){ T_MAIN, T_B, 0 }), "CALL through a gate: NT, busy");
    task_iret();
}

/* A through the LDT's task gate: A's TSS names no LDT. */
static void a_ldt(void)
{
    puts_("A: entered through the LDT's task gate\n");
    cur_line("A");
    busy_line();
    check(read_ldtr() == 0 && read_tr() == T_A, "LDT gate: LDTR from A's TSS");
    far_jmp(T_MAIN);
}

/* C: INT 0x40's task. */
static void c_int(void)
{
    puts_("C: entered by INT 0x40\n");
    print_snap("C", ID_C, 1);
    dump_tss("main", &tss_main);
    busy_line();
    check((snaps[ID_C].eflags & 0x4000) && (tss_c.link & 0xffff) == T_MAIN, "INT task gate: NT, back link");
    task_iret();
    puts_("C: INT 0x40 again\n");
    cur_line("C");
    dump_tss("main", &tss_main);
    task_iret();
}

/* GP: the #GP task; it skips main's faulting MOV DS (2 bytes) and returns. */
static void gp_task(void)
{
    u32 err = snaps[ID_GP].top;
    print_snap("GP", ID_GP, 1);
    for (int n = 0;; n++) {
        puts_("GP: #GP through its task gate");
        kv4("err", err); kv4("link", tss_gp.link & 0xffff); kv("main.eip", tss_main.eip); kv("esp", tss_gp.esp);
        nl();
        busy_line();
        check(err == 0x28 && tss_main.eip == (u32)gp_ds_at, "#GP task: error code, faulting EIP");
        tss_main.eip += 2;
        err = task_iret_err();
    }
}

/* DF: the double-fault task; main's stack ran into the guard page. */
static void df_task(void)
{
    u32 err = snaps[ID_DF].top;
    print_snap("DF", ID_DF, 1);
    for (;;) {
        puts_("DF: #DF through its task gate");
        kv4("err", err); kv4("link", tss_df.link & 0xffff); kv("cr2", read_cr2());
        kv("main.esp", tss_main.esp); kv("main.eip", tss_main.eip);
        nl();
        busy_line();
        check(err == 0 && read_cr2() == (u32)guard_area + 4092, "#DF task: error code 0, CR2");
        check(tss_main.esp == (u32)guard_area + 4096 && tss_main.eip == (u32)overflow_push, "#DF task: old ESP, EIP");
        tss_main.eip = (u32)overflow_recover;
        err = task_iret_err();
    }
}

/* D: a task with its own page directory, running on LDT code and data. */
static void d_cr3(void)
{
    puts_("D: entered by JMP, its own CR3\n");
    print_snap("D", ID_D, 1);
    puts_("  D reads the window:");
    kv("value", window_a[0]);
    nl();
    check(snaps[ID_D].cr3 == (u32)pd2 && window_a[0] == 0xbbbb0002u, "CR3 from the new TSS");
    check(snaps[ID_D].cs == 0x14 && snaps[ID_D].ds == 0x0c && snaps[ID_D].ldtr == LDTSEL, "LDT segments");
    far_jmp(T_MAIN);
}

/* K3: the kernel task user code reaches (DPL 3 gate, DPL 3 TSS). */
static void k3_user(void)
{
    puts_("K3: entered by INT 0x41 from user mode\n");
    print_snap("K3", ID_K3, 1);
    busy_line();
    puts_("  U's faults before it:\n");
    check(nflog == 5 && fault_is(0, 13, T_MAIN) && fault_is(1, 13, 0x43 * 8 + 2) && fault_is(2, 11, 0x42 * 8 + 2) &&
          fault_is(3, 13, T_A) && fault_is(4, 13, G_NP), "U's refused switches");
    faults(0, 0);
    print_snap("U", ID_U, 0);
    dump_tss("U", &tss_u);
    check((snaps[ID_K3].eflags & 0x4000) && (tss_k3.link & 0xffff) == T_U, "INT from user: NT, back link");
    check(busy_only((const u16[]){ T_U, T_K3, 0 }), "INT from user: busy");
    check(tss_u.eax == 0xa1a1a1a1u && (tss_u.cs & 0xffff) == 0x1b && (tss_u.ss & 0xffff) == 0x23, "user state saved");
    task_iret();
    puts_("K3: CALLed by U\n");
    cur_line("K3");
    kv4("  link", tss_k3.link & 0xffff);
    nl();
    busy_line();
    check((read_flags() & 0x4000) && busy_only((const u16[]){ T_U, T_K3, 0 }), "CALL from user: NT, busy");
    task_iret();
}

/* A through the DPL 3 gate from U (the TSS's DPL 0 does not matter through a gate). */
static void a_from_u(void)
{
    puts_("A: entered through a DPL 3 gate from U\n");
    cur_line("A");
    busy_line();
    puts_("  U's flags after its returns:");
    kv("int", uflags[0]); kv("call", uflags[1]);
    nl();
    dump_tss("U", &tss_u);
    dump_tss("K3", &tss_k3);
    check(busy_only((const u16[]){ T_A, 0 }) && !(read_flags() & 0x4000), "JMP from user: busy, NT");
    far_jmp(T_MAIN);
}

/* A through the gate from U3: the IRETs U3 could not make. */
static void a_from_u3(void)
{
    puts_("A: entered through the DPL 3 gate from U3\n");
    print_snap("U3", ID_U3, 0);
    check(nflog == 2 && fault_is(0, 10, T_A) && fault_is(1, 10, 0), "U3's IRETs: #TS");
    faults(0, 0);
    dump_tss("U3", &tss_u3);
    busy_line();
    far_jmp(T_MAIN);
}

/* A through the gate from UBAD (its switch failed on DS, was repaired and resumed). */
static void a_from_ubad(void)
{
    puts_("A: entered through the DPL 3 gate from UBAD\n");
    print_snap("UBAD", ID_UBAD, 0);
    busy_line();
    far_jmp(T_MAIN);
}

/* H: the task of #TS, #NP and #GP while a new task's state is loaded. It shows what the
 * failed task's TSS kept, repairs it (bad_fix) and returns to it with IRET, at its entry: the
 * EIP the failed task saved is the new task's first instruction in the SDM, but QEMU's TCG
 * raises these faults with the EIP of the JMP that started the switch (it restores the
 * instruction's state when a helper faults), so that EIP is neither printed nor kept. */
static void (*volatile bad_fix)(void);
static volatile u32 h_err, bad_entry;
static void h_task(void)
{
    u32 err = snaps[ID_H].top;
    for (;;) {
        h_err = err;
        puts_("H: fault in the new task");
        kv4("err", err); kv4("link", tss_h.link & 0xffff); kv4("tr", read_tr());
        nl();
        dump_tss_eip("BAD", &tss_bad, 0);
        busy_line();
        if (bad_fix) bad_fix();
        tss_bad.eip = bad_entry;
        err = task_iret_err();
    }
}

/* BAD: it ran at last. */
static void bad_ran(void)
{
    puts_("BAD: runs\n");
    print_snap("BAD", ID_BAD, 1);
    far_jmp(T_MAIN);
}

/* IRQ: COM1's transmitter interrupt through a task gate. */
static void irq_task(void)
{
    for (;;) {
        outb(COM1 + 1, 0);                 /* IER: no more interrupts */
        (void)inb(COM1 + 2);               /* IIR */
        outb(0x20, 0x20);
        puts_("IRQ: IRQ4 through its task gate\n");
        print_snap("IRQ", ID_IRQ, 1);
        dump_tss("main", &tss_main);
        check(tss_main.eip == (u32)irq_window_cli && (tss_main.eflags & 0x200), "IRQ: main's EIP after STI's shadow, IF");
        check((tss_irq.link & 0xffff) == T_MAIN && (snaps[ID_IRQ].eflags & 0x4000), "IRQ: back link, NT");
        task_iret();
    }
}

static void call_main(void) { far_call(T_MAIN); }
static void just_iret(void) { task_iret(); }

/* B calls A2; A2 finds main busy. */
static void b_nest(void)
{
    puts_("B: calls A2\n");
    far_call(T_A2);
    puts_("B: back from A2\n");
    cur_line("B");
    busy_line();
    check(busy_only((const u16[]){ T_MAIN, T_B, 0 }), "nested: A2 free again");
    task_iret();
}
static void a2_nest(void)
{
    puts_("A2: called by B\n");
    print_snap("A2", ID_A2, 1);
    busy_line();
    kv4("  A2.link", tss_a2.link & 0xffff); kv4("B.link", tss_b.link & 0xffff);
    nl();
    check(busy_only((const u16[]){ T_MAIN, T_B, T_A2, 0 }), "nested: three busy");
    check(try_(call_main) && faults(13, T_MAIN), "CALL of a busy task: #GP");
    task_iret();
}

/* ---- the tests main runs ---------------------------------------------------------------- */
static void jmp_main(void) { far_jmp(T_MAIN); }
static void call_x(void) { far_call(T_X); }
static void jmp_x(void) { far_jmp(T_X); }
static void jmp_a_rpl3(void) { far_jmp(T_A | 3); }
static void jmp_gate_np(void) { far_jmp(G_NP); }
static void jmp_gate_busy(void) { far_jmp(G_BUSY); }
static void jmp_gate_far(void) { far_jmp(G_FAR); }
static void jmp_ldt_desc(void) { far_jmp(LDTSEL); }
static void fpu_op(void) { __asm__ volatile("fninit"); }

/* One refused switch: the fault in the old task, nothing changed. */
static void refused(const char *what, void (*fn)(void), u32 vec, u32 err)
{
    u32 eip = tss_main.eip, link = tss_main.link;
    puts_("refused: ");
    puts_(what);
    nl();
    int caught = try_(fn);
    int ok = faults(vec, err);
    check(caught && ok, what);
    check(read_tr() == T_MAIN && busy_only((const u16[]){ T_MAIN, 0 }) && tss_main.eip == eip && tss_main.link == link,
          "refused: nothing changed");
}

/* One switch that fails in the new task: BAD's TSS as `setup` leaves it, H repairs with `fix`. */
static void bad_case(const char *what, void (*setup)(void), void (*fix)(void), u32 err, u32 entry)
{
    puts_("failing: ");
    puts_(what);
    nl();
    tss_init(&tss_bad, ID_BAD, entry, KCODE, KDATA, KDATA, 0x2, (u32)pd1, 0);
    set_tss_desc(T_BAD, &tss_bad, A_TSS);
    h_err = 0xffffffffu;
    bad_fix = fix;
    bad_entry = entry;
    setup();
    far_jmp(T_BAD);
    check(h_err == err, what);
    check(busy_only((const u16[]){ T_MAIN, 0 }) && nflog == 0, "failing: all free again");
    nflog = 0;
}

static void s_ldt_gate(void) { tss_bad.ldt = G_B; }
static void s_ldt_ti(void) { tss_bad.ldt = LDTSEL | 4; }
static void s_ldt_np(void) { tss_bad.ldt = LDTSEL; gdt[LDTSEL >> 3].hi &= ~0x8000u; }
static void s_cs_data(void) { tss_bad.cs = KDATA; }
static void s_cs_np(void) { tss_bad.cs = KCODE_NP; }
static void s_cs_dpl(void) { tss_bad.cs = UCODE; }
static void s_ss_null(void) { tss_bad.ss = 0; }
static void s_ss_dpl(void) { tss_bad.ss = UDATA | 3; }
static void s_ss_rpl(void) { tss_bad.ss = KDATA | 1; }
static void s_ss_code(void) { tss_bad.ss = KCODE; }
static void s_ds_np(void) { tss_bad.ds = KDATA_NP; }
static void s_ds_xo(void) { tss_bad.ds = KCODE_XO; }
static void s_es_sys(void) { tss_bad.es = T_MAIN; }
static void s_fs_rpl(void) { tss_bad.fs = KDATA | 3; }
static void s_gs_far(void) { tss_bad.gs = 0x1f8; }
static void s_eip(void) { tss_bad.cs = KCODE_SMALL; }
static void s_user_ds(void)
{
    tss_bad.cs = UCODE | 3; tss_bad.ss = UDATA | 3; tss_bad.es = tss_bad.fs = tss_bad.gs = UDATA | 3;
    tss_bad.ds = KDATA | 3; tss_bad.esp = STACK_TOP(ID_UBAD);
}
static void f_ldt(void) { tss_bad.ldt = LDTSEL; }
static void f_ldt_null(void) { tss_bad.ldt = 0; }
static void f_ldt_p(void) { gdt[LDTSEL >> 3].hi |= 0x8000u; }
static void f_cs(void) { tss_bad.cs = KCODE; }
static void f_ss(void) { tss_bad.ss = KDATA; }
static void f_ds(void) { tss_bad.ds = KDATA; }
static void f_es(void) { tss_bad.es = KDATA; }
static void f_fs(void) { tss_bad.fs = KDATA; }
static void f_gs(void) { tss_bad.gs = KDATA; }
static void f_user_ds(void) { tss_bad.ds = UDATA | 3; }

static void pic_init(void)
{
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xff); outb(0xa1, 0xff);
}

static void tables_init(void)
{
    gdt[KCODE >> 3] = mkseg(0, 0xffffffff, A_KCODE, 4);
    gdt[KDATA >> 3] = mkseg(0, 0xffffffff, A_KDATA, 4);
    gdt[UCODE >> 3] = mkseg(0, 0xffffffff, A_UCODE, 4);
    gdt[UDATA >> 3] = mkseg(0, 0xffffffff, A_UDATA, 4);
    gdt[KDATA_NP >> 3] = mkseg(0, 0xffffffff, A_KDATA & 0x7f, 4);
    gdt[KCODE_XO >> 3] = mkseg(0, 0xffffffff, 0x99, 4);           /* execute-only, accessed */
    gdt[KCODE_SMALL >> 3] = mkseg(0, 0xffff, A_KCODE, 4);
    gdt[KCODE_NP >> 3] = mkseg(0, 0xffffffff, A_KCODE & 0x7f, 4);
    gdt[LDTSEL >> 3] = mkseg((u32)ldt, sizeof ldt - 1, A_LDT, 0);
    gdt[G_B >> 3] = mkgate(T_B, 0, A_TGATE);
    gdt[G_NP >> 3] = mkgate(T_A, 0, A_TGATE & 0x7f);
    gdt[G_BUSY >> 3] = mkgate(T_MAIN, 0, A_TGATE);
    gdt[G_FAR >> 3] = mkgate(0x1f8, 0, A_TGATE);
    gdt[G_AU >> 3] = mkgate(T_A, 0, A_TGATE | 0x60);
    ldt[0] = mkgate(T_A, 0, A_TGATE);                              /* 0x04: a task gate in the LDT */
    ldt[1] = mkseg(0, 0xffffffff, A_UDATA, 4);                     /* 0x0c: data, DPL 3 */
    ldt[2] = mkseg(0, 0xffffffff, A_KCODE, 4);                     /* 0x14: code, DPL 0 */
    struct { u16 limit; u32 base; } __attribute__((packed)) gp = { sizeof gdt - 1, (u32)gdt }, ip = { sizeof idt - 1, (u32)idt };
    __asm__ volatile("lgdt %0; ljmp $0x08, $1f; 1: mov %1, %%ds; mov %1, %%es; mov %1, %%fs; mov %1, %%gs; mov %1, %%ss"
                     :: "m"(gp), "r"(KDATA) : "memory");
    for (unsigned v = 0; v < 256; v++) idt_set(v, mkgate(KCODE, (u32)isr_255, 0x8e));
    for (unsigned v = 0; v < 32; v++) idt_catch(v);
    idt_set(8, mkgate(T_DF, 0, A_TGATE));
    idt_set(0x40, mkgate(T_C, 0, A_TGATE));
    idt_set(0x41, mkgate(T_K3, 0, A_TGATE | 0x60));
    idt_set(0x42, mkgate(T_C, 0, (A_TGATE | 0x60) & 0x7f));
    idt_set(0x43, mkgate(T_C, 0, A_TGATE));
    idt_set(0x44, mkgate(T_MAIN, 0, A_TGATE));
    idt_set(0x24, mkgate(T_IRQ, 0, A_TGATE));
    __asm__ volatile("lidt %0" :: "m"(ip));
}

static void tasks_init(void)
{
    u32 cr3 = (u32)pd1;
    memset(&tss_main, 0, sizeof tss_main);
    tss_main.cr3 = cr3; tss_main.iomap = sizeof tss_main; tss_main.ss0 = KDATA; tss_main.esp0 = KSTACK_TOP(ID_MAIN);
    /* A: arithmetic flags, DF, IOPL 1, AC and ID set. */
    tss_init(&tss_a, ID_A, (u32)ktask_entry_1, KCODE, KDATA, KDATA, 0x00241cd7, cr3, 0);
    tss_init(&tss_b, ID_B, (u32)ktask_entry_2, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_c, ID_C, (u32)ktask_entry_3, KCODE, KDATA, KDATA, 0x00000046, cr3, 0);
    tss_init(&tss_gp, ID_GP, (u32)ktask_entry_4, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_df, ID_DF, (u32)ktask_entry_5, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_k3, ID_K3, (u32)ktask_entry_6, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_h, ID_H, (u32)ktask_entry_7, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_d, ID_D, (u32)ktask_entry_8, 0x14, KDATA, 0x0c, 0x00000002, (u32)pd2, LDTSEL);
    tss_init(&tss_irq, ID_IRQ, (u32)ktask_entry_9, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_a2, ID_A2, (u32)ktask_entry_11, KCODE, KDATA, KDATA, 0x00000002, cr3, 0);
    tss_init(&tss_u, ID_U, (u32)utask_u, UCODE | 3, UDATA | 3, UDATA | 3, 0x000008c3, cr3, 0);
    tss_init(&tss_u2, ID_U2, (u32)utask_u2, UCODE | 3, UDATA | 3, UDATA | 3, 0x00000002, cr3, 0);
    tss_init(&tss_u3, ID_U3, (u32)utask_u3, UCODE | 3, UDATA | 3, UDATA | 3, 0x00004002, cr3, 0);
    tss_u3.link = T_A;
    tss_u.fs = 0x0f;                      /* the LDT's DPL 3 data: U's TSS names the LDT */
    tss_u.ldt = LDTSEL;
    set_tss_desc(T_MAIN, &tss_main, A_TSS);
    set_tss_desc(T_A, &tss_a, A_TSS);
    set_tss_desc(T_B, &tss_b, A_TSS);
    set_tss_desc(T_C, &tss_c, A_TSS);
    set_tss_desc(T_GP, &tss_gp, A_TSS);
    set_tss_desc(T_DF, &tss_df, A_TSS);
    set_tss_desc(T_U, &tss_u, A_TSS);
    set_tss_desc(T_K3, &tss_k3, A_TSS | 0x60);
    set_tss_desc(T_X, &tss_x, A_TSS);
    set_tss_desc(T_H, &tss_h, A_TSS);
    set_tss_desc(T_D, &tss_d, A_TSS);
    set_tss_desc(T_IRQ, &tss_irq, A_TSS);
    set_tss_desc(T_BAD, &tss_bad, A_TSS);
    set_tss_desc(T_U2, &tss_u2, A_TSS);
    set_tss_desc(T_A2, &tss_a2, A_TSS);
    set_tss_desc(T_U3, &tss_u3, A_TSS);
    tss_init(&tss_x, 15, (u32)ktask_entry_1, KCODE, KDATA, KDATA, 0x2, cr3, 0);
    act[ID_GP] = gp_task;
    act[ID_DF] = df_task;
    act[ID_H] = h_task;
    act[ID_BAD] = bad_ran;
    act[ID_IRQ] = irq_task;
}

void kmain(void);
void kmain(void)
{
    outb(COM1 + 1, 0x00); outb(COM1 + 3, 0x80); outb(COM1 + 0, 0x01); outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); outb(COM1 + 2, 0xc7); outb(COM1 + 4, 0x0b);
    puts_("tasks: hardware task switching, 32-bit TSSs\n");
    pic_init();
    tables_init();
    paging_init();
    tasks_init();
    __asm__ volatile("ltr %w0" :: "r"((u16)T_MAIN));
    puts_("main: LTR");
    kv4("tr", read_tr()); kv("cr0", read_cr0()); kv("cr3", read_cr3());
    nl();
    busy_line();

    /* JMP to a TSS (direct far pointer), with DR7's local and global enables set. */
    puts_("main: JMP to A\n");
    act[ID_A] = a_first;
    clts();
    __asm__ volatile("mov %0, %%dr0; mov %0, %%dr1; mov %0, %%dr2; mov %0, %%dr3; mov %1, %%dr7"
                     :: "r"(0xfffff000u), "r"(0xffu));
    probe_jmp(T_A);
    puts_("main: back from A\n");
    cur_line("main");
    puts_("  main:"); kv("dr7", read_dr7()); nl();
    busy_line();
    dump_tss("A", &tss_a);
    check(read_cr0() & 8, "back: CR0.TS");
    check((read_dr7() & 0xff) == 0xaa, "back: DR7");
    check(busy_only((const u16[]){ T_MAIN, 0 }), "back: busy");
    check((tss_a.eflags & 0x3000) == 0x1000, "A's IOPL kept in its TSS");
    __asm__ volatile("mov %0, %%dr7" :: "r"(0u));
    clts();

    /* CALL to a TSS (direct), IRET back; CALL through a task gate in the GDT. */
    puts_("main: CALL to B\n");
    act[ID_B] = b_called;
    probe_call(T_B);
    puts_("main: back from B\n");
    cur_line("main");
    dump_tss("B", &tss_b);
    busy_line();
    check(!(read_flags() & 0x4000) && busy_only((const u16[]){ T_MAIN, 0 }), "IRET: NT clear in main, B free");
    check(!(tss_b.eflags & 0x4000), "IRET: NT clear in the saved image");
    puts_("main: CALL through the task gate 0x80\n");
    far_call(G_B);
    dump_tss("B", &tss_b);

    /* A task gate in the LDT; LDTR comes back from main's TSS. */
    __asm__ volatile("lldt %w0" :: "r"((u16)LDTSEL));
    tss_main.ldt = LDTSEL;
    puts_("main: JMP through the LDT's task gate 0x04\n");
    act[ID_A] = a_ldt;
    far_jmp(0x04);
    cur_line("main");
    check(read_ldtr() == LDTSEL, "LDTR reloaded from main's TSS");

    /* INT n through an IDT task gate, twice: C resumes after its IRET. */
    puts_("main: INT 0x40\n");
    act[ID_C] = c_int;
    int40();
    puts_("main: INT 0x40 again\n");
    int40();
    dump_tss("C", &tss_c);

    /* #GP through a task gate, twice: the error code on the handler task's stack. */
    puts_("main: #GP through a task gate\n");
    idt_set(13, mkgate(T_GP, 0, A_TGATE));
    gp_ds();
    gp_ds();
    idt_catch(13);
    cur_line("main");

    /* A kernel stack overflow: #PF cannot push its frame, #DF through its task gate. */
    puts_("main: stack overflow\n");
    overflow();
    puts_("main: recovered from the overflow\n");
    cur_line("main");
    busy_line();

    /* A task with another page directory. */
    window_a[0] = 0xaaaa0001u;
    window_b[0] = 0xbbbb0002u;
    puts_("main: JMP to D\n");
    act[ID_D] = d_cr3;
    far_jmp(T_D);
    puts_("main: back from D");
    kv("cr3", read_cr3()); kv("window", window_a[0]);
    nl();
    check(read_cr3() == (u32)pd1 && window_a[0] == 0xaaaa0001u, "CR3 from main's TSS");

    /* User-mode tasks. */
    puts_("main: JMP to the user task U\n");
    act[ID_K3] = k3_user;
    act[ID_A] = a_from_u;
    far_jmp(T_U);
    puts_("main: back from U's way\n");
    busy_line();
    check(busy_only((const u16[]){ T_MAIN, 0 }), "after U: busy");
    puts_("main: CALL to the user task U2\n");
    far_call(T_U2);
    print_snap("U2", ID_U2, 0);
    dump_tss("U2", &tss_u2);
    busy_line();
    check((snaps[ID_U2].eflags & 0x4000) && snaps[ID_U2].cs == 0x1b && !(tss_u2.eflags & 0x4000), "U2: NT, CPL 3, IRET");
    puts_("main: CALL to U2 again\n");
    far_call(T_U2);
    puts_("  U2's flags after its return:");
    kv("efl", uflags[2]);
    nl();
    check((uflags[2] & 0x4000) != 0, "U2 called again: NT");
    puts_("main: JMP to the user task U3 (NT set in its TSS)\n");
    act[ID_A] = a_from_u3;
    far_jmp(T_U3);
    user_resume = 0;
    busy_line();

    /* Switches refused before they begin. */
    refused("JMP to the running task", jmp_main, 13, T_MAIN);
    gdt[T_X >> 3].hi &= ~0x8000u;
    refused("CALL to a TSS not present", call_x, 11, T_X);
    gdt[T_X >> 3] = mkseg((u32)&tss_x, 0x66, A_TSS, 0);
    refused("JMP to a TSS with limit 0x66", jmp_x, 10, T_X);
    set_tss_desc(T_X, &tss_x, A_TSS);
    refused("JMP with RPL 3 to a DPL 0 TSS", jmp_a_rpl3, 13, T_A);
    refused("JMP through a task gate not present", jmp_gate_np, 11, G_NP);
    refused("JMP through a task gate to a busy TSS", jmp_gate_busy, 13, T_MAIN);
    refused("JMP through a task gate past the GDT", jmp_gate_far, 13, 0x1f8);
    tss_main.link = T_A;
    refused("IRET with NT to an available TSS", iret_nt, 10, T_A);
    tss_main.link = 0;
    refused("IRET with NT to a null back link", iret_nt, 10, 0);
    refused("INT through an IDT task gate not present", int42, 11, 0x42 * 8 + 2);
    refused("INT through an IDT task gate to a busy TSS", int44, 13, T_MAIN);
    refused("JMP to an LDT descriptor", jmp_ldt_desc, 13, LDTSEL);

    /* Switches that fail while the new task's state is loaded: in the new task. */
    idt_set(10, mkgate(T_H, 0, A_TGATE));
    idt_set(11, mkgate(T_H, 0, A_TGATE));
    idt_set(13, mkgate(T_H, 0, A_TGATE));
    u32 e = (u32)ktask_entry_10;
    bad_case("LDT selector names a task gate", s_ldt_gate, f_ldt, G_B, e);
    bad_case("LDT selector with TI set", s_ldt_ti, f_ldt_null, LDTSEL | 4, e);
    bad_case("LDT not present", s_ldt_np, f_ldt_p, LDTSEL, e);
    bad_case("CS names data", s_cs_data, f_cs, KDATA, e);
    bad_case("CS not present", s_cs_np, f_cs, KCODE_NP, e);
    bad_case("CS DPL 3 with RPL 0", s_cs_dpl, f_cs, UCODE, e);
    bad_case("SS null", s_ss_null, f_ss, 0, e);
    bad_case("SS DPL 3 at CPL 0", s_ss_dpl, f_ss, UDATA, e);
    bad_case("SS RPL 1", s_ss_rpl, f_ss, KDATA, e);
    bad_case("SS names code", s_ss_code, f_ss, KCODE, e);
    bad_case("DS not present", s_ds_np, f_ds, KDATA_NP, e);
    bad_case("DS execute-only code", s_ds_xo, f_ds, KCODE_XO, e);
    bad_case("ES a TSS", s_es_sys, f_es, T_MAIN, e);
    bad_case("FS RPL 3 above DPL 0", s_fs_rpl, f_fs, KDATA, e);
    bad_case("GS past the GDT", s_gs_far, f_gs, 0x1f8, e);
    bad_case("EIP past CS's limit", s_eip, f_cs, 0, e);
    act[ID_A] = a_from_ubad;
    bad_case("user task, DS DPL 0", s_user_ds, f_user_ds, KDATA, (u32)utask_ubad);
    idt_catch(10);
    idt_catch(11);
    idt_catch(13);

    /* An external interrupt through a task gate. */
    puts_("main: IRQ4 through a task gate\n");
    outb(0x21, 0xef);                         /* only IRQ4 */
    outb(COM1 + 1, 0x02);                     /* IER: transmitter empty */
    irq_window();
    outb(0x21, 0xff);
    cur_line("main");
    busy_line();

    /* Nested: main calls B, B calls A2, A2 finds main busy. */
    puts_("main: CALL to B, which calls A2\n");
    act[ID_B] = b_nest;
    act[ID_A2] = a2_nest;
    far_call(T_B);
    busy_line();
    kv4("  A2.link", tss_a2.link & 0xffff); kv4("B.link", tss_b.link & 0xffff);
    nl();
    check(busy_only((const u16[]){ T_MAIN, 0 }), "nested: all free");

    /* CR0.TS after a switch: the first x87 instruction is #NM. */
    puts_("main: x87 after a switch\n");
    act[ID_B] = just_iret;
    far_call(T_B);                            /* B resumes after its IRET, returns at once */
    check(read_cr0() & 8, "TS after the switch");
    check(try_(fpu_op) && faults(7, 0), "#NM with TS");
    clts();
    check(!try_(fpu_op), "no #NM after CLTS");
    faults(0, 0);
    finish();
}

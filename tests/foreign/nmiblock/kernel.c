/* nmiblock: what a kernel can see of NMI delivery and of the blocking that follows it (SDM
 * Vol. 3A 6.7.1): vector 2 whatever IF says, through interrupt, trap and task gates and a
 * ring 3 handler; further NMIs held until the next IRET (one waits, a third is lost), and let
 * in by any IRET: the handler's, a nested interrupt handler's, a ring 3 IRET to itself after
 * a kernel handler that went back with a far RET, a task return; INT 2 blocks nothing; an NMI
 * before a waiting maskable interrupt; a single-step trap before an NMI; an NMI through a bad
 * gate faulting as itself; HLT with IF clear woken by an NMI; an I/O APIC NMI reaching a loop
 * that never traps.
 *
 * An NMI sent with a store to the ICR arrives, in QEMU's TCG, at the end of the translation
 * block, so every store is followed by a jump (SEND_NMI, send_nmi) and no frame EIP of such
 * an NMI is printed; the places printed are exact ones (after an IRET, at a handler's first
 * instruction, after HLT). QEMU leaves the EXT bit out of error codes for a faulting NMI
 * delivery (the SDM sets it): the error codes are printed with bit 0 cleared. The ring 3
 * program that IRETs to itself builds its frame with its selector as a constant (umbra
 * would show it a selector of its own while NMIs are blocked there, docs/guests.md). */
#include <stdint.h>
#include <stdbool.h>

#define KCODE 0x08
#define UCODE 0x1b
#define LAPIC 0xfee00000u
#define ICR_NMI_SELF 0x00040400u
#define EFL_IF 0x200u
#define EFL_TF 0x100u
#define EFL_NT 0x4000u

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline volatile uint32_t *mmio(uint32_t a) { volatile uint32_t *p; __asm__("" : "=r"(p) : "0"(a)); return p; }
static inline uint32_t lapic_rd(uint32_t r) { return *mmio(LAPIC + r); }
static inline void lapic_wr(uint32_t r, uint32_t v) { *mmio(LAPIC + r) = v; }
static inline uint32_t flags(void) { uint32_t f; __asm__ volatile("pushfl; popl %0" : "=r"(f)); return f; }

/* ---- console ---- */
static void putc_com1(char c)
{
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
}
static void puts_(const char *s) { while (*s) putc_com1(*s++); }
static void putx(uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) putc_com1("0123456789abcdef"[(v >> (i * 4)) & 15]);
}
static void putu(uint32_t v)
{
    char b[12]; int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) putc_com1(b[--n]);
}
static unsigned failures;
static const char *yn(bool b) { return b ? "yes" : "no"; }
static void check(bool ok, const char *what)
{
    if (ok) return;
    failures++;
    puts_("FAIL: "); puts_(what); puts_("\n");
}

/* ---- tables ---- */
struct frame {
    uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
    uint32_t vector, error, eip, cs, eflags, uesp, uss;
};
struct tss {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, es, cs, ss, ds, fs, gs, ldt, iomap;
} __attribute__((packed));
extern uint64_t idt[256], gdt[];
extern const uint32_t stubs[256];
extern char kstack0_top[], nmi_task_stack_top[], db_entry[];
extern void user_back(void), u_nmi(void), k_nmi_retf(void), nmi_task(void);
extern void user_a(void), user_b(void), user_b_label(void);
extern uint32_t run_user(void (*eip)(void), uint32_t eflags);
extern void iret_self(void);
extern volatile uint32_t u_nmi_count, u_nmi_seen_before_iret, u_nmi_eip[2], u_nmi_cs[2];
extern volatile uint32_t k_nmi_count, k_nmi_eip[3], user_b_before, user_b_after;
extern volatile uint32_t t_nmi_count, t_nmi_flags, t_nmi_link, t_nmi_before;
struct tss tss_main, nmi_tss;

enum { INTGATE = 0x8e, TRAPGATE = 0x8f, TASKGATE = 0x85 };
static void gate(unsigned v, uint16_t sel, uint32_t off, uint8_t type_attr)
{
    idt[v] = (uint64_t)(off & 0xffff) | (uint64_t)sel << 16 | (uint64_t)type_attr << 40 |
             (uint64_t)(off >> 16) << 48;
}
static void tss_desc(unsigned i, struct tss *t)
{
    uint32_t b = (uint32_t)t, lim = sizeof *t - 1;
    gdt[i] = (uint64_t)(lim & 0xffff) | (uint64_t)(b & 0xffffff) << 16 | (uint64_t)0x89 << 40 |
             (uint64_t)(b >> 24) << 56;
}

/* ---- timing: PIT channel 2, gated by port 0x61, polled ---- */
static void delay_us(uint32_t us)
{
    uint32_t count = us * 1193u / 1000u;
    if (count < 2) count = 2;
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb0);
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    while (!(inb(0x61) & 0x20)) {}
}

/* An NMI to this CPU. The jump ends QEMU's translation block: the NMI comes before what follows. */
static void send_nmi(void)
{
    __asm__ volatile("movl %0, (%1); jmp 1f; 1:" :: "r"(ICR_NMI_SELF), "r"(mmio(LAPIC + 0x300)) : "memory");
}
static void send_fixed(uint8_t v)
{
    __asm__ volatile("movl %0, (%1); jmp 1f; 1:" :: "r"(0x40000u | v), "r"(mmio(LAPIC + 0x300)) : "memory");
}
static bool lapic_bit(uint32_t base, unsigned v) { return (lapic_rd(base + (v >> 5) * 0x10) >> (v & 31)) & 1; }

/* ---- what the handlers saw ---- */
enum mode { M_PLAIN, M_BLOCK, M_PRIO, M_NEST, M_SOFT, M_STEP, M_USER };
static volatile enum mode mode;
static volatile uint32_t nmis, depth, max_depth;
static volatile uint32_t nmi_eip[4], nmi_cs[4], nmi_fl[4], nmi_inner_fl[4], nmi_uss[4];
static volatile uint32_t count_before_iret, irr_40[2], isr_40;
static volatile char order[16];
static volatile uint32_t order_n;
static volatile uint32_t v41_eip, db_eip, db_fl, db_seen;
static volatile uint32_t np_err, np_seen, np_skip, gp_err, gp_seen, soft_inside;

static void log_event(char c) { if (order_n < sizeof order - 1) order[order_n++] = c; }

static void on_nmi(struct frame *f)
{
    unsigned i = nmis & 3;
    nmi_eip[i] = f->eip; nmi_cs[i] = f->cs; nmi_fl[i] = f->eflags; nmi_inner_fl[i] = flags();
    nmi_uss[i] = (f->cs & 3) ? f->uss : 0;
    nmis++;
    depth++;
    if (depth > max_depth) max_depth = depth;
    log_event('N');
    switch (mode) {
    case M_BLOCK:
        if (nmis == 1) {
            send_nmi();
            send_nmi();                 /* the latch holds one: this one is lost */
            delay_us(2000);
            count_before_iret = nmis;
        }
        break;
    case M_PRIO:
        if (nmis == 1) {
            send_fixed(0x40);           /* IF is clear here: it waits */
            send_nmi();                 /* blocked: it waits too */
            delay_us(1000);
            irr_40[0] = lapic_bit(0x200, 0x40);
        } else {
            irr_40[1] = lapic_bit(0x200, 0x40);
            isr_40 = lapic_bit(0x100, 0x40);
        }
        break;
    case M_NEST:
        if (nmis == 1) {
            send_nmi();                 /* waits */
            send_fixed(0x41);           /* a trap gate left IF set: taken here */
            delay_us(1000);
        }
        break;
    default:
        break;
    }
    depth--;
}

static void on_int2_soft(void)
{
    /* INT 2 ran this handler without blocking NMIs: one sent now comes at once. */
    uint32_t before = nmis;
    mode = M_PLAIN;
    send_nmi();
    soft_inside = nmis - before;
}

void trap(struct frame *f);
void trap(struct frame *f)
{
    switch (f->vector) {
    case 2:
        if (mode == M_SOFT) { on_int2_soft(); return; }
        on_nmi(f);
        return;
    case 1:
        db_eip = f->eip; db_fl = f->eflags; db_seen++;
        log_event('D');
        f->eflags &= ~EFL_TF;
        return;
    case 11:
        np_err = f->error; np_seen++;
        log_event('P');
        f->eip += np_skip;              /* past an INT n; an NMI's comes back where it came */
        return;
    case 13:
        gp_err = f->error; gp_seen++;
        log_event('G');
        return;
    case 0x40:
        log_event('V');
        lapic_wr(0xb0, 0);
        return;
    case 0x41:
        v41_eip = f->eip;
        log_event('W');
        lapic_wr(0xb0, 0);
        return;
    default:
        puts_("unexpected vector "); putu(f->vector); puts_(" at "); putx(f->eip, 8); puts_("\n");
        failures++;
        return;
    }
}

static void reset(enum mode m)
{
    mode = m;
    nmis = 0; depth = 0; max_depth = 0; order_n = 0;
    for (unsigned i = 0; i < sizeof order; i++) order[i] = 0;
}
static void wait_nmis(uint32_t n) { for (unsigned i = 0; i < 50 && nmis < n; i++) delay_us(1000); }
static void print_order(void) { puts_((const char *)order); }

/* ---- the tests ---- */
static void t_gates(void)
{
    reset(M_PLAIN);
    gate(2, KCODE, stubs[2], INTGATE);
    __asm__ volatile("cli");
    send_nmi();
    wait_nmis(1);
    puts_("interrupt gate, IF clear: taken "); putu(nmis); puts_(", frame CS "); putx(nmi_cs[0], 4);
    puts_(" IF "); putu((nmi_fl[0] & EFL_IF) != 0); puts_(", IF inside "); putu((nmi_inner_fl[0] & EFL_IF) != 0);
    puts_("\n");
    check(nmis == 1 && !(nmi_fl[0] & EFL_IF) && !(nmi_inner_fl[0] & EFL_IF), "interrupt gate");
    reset(M_PLAIN);
    gate(2, KCODE, stubs[2], TRAPGATE);
    __asm__ volatile("sti");
    send_nmi();
    wait_nmis(1);
    __asm__ volatile("cli");
    puts_("trap gate, IF set: taken "); putu(nmis); puts_(", frame IF "); putu((nmi_fl[0] & EFL_IF) != 0);
    puts_(", IF inside "); putu((nmi_inner_fl[0] & EFL_IF) != 0); puts_("\n");
    check(nmis == 1 && (nmi_fl[0] & EFL_IF) && (nmi_inner_fl[0] & EFL_IF), "trap gate");
    gate(2, KCODE, stubs[2], INTGATE);
}

static void t_blocking(void)
{
    reset(M_BLOCK);
    send_nmi();
    wait_nmis(2);
    delay_us(3000);
    puts_("two sent from the handler: taken inside it "); putu(count_before_iret - 1);
    puts_(", after its IRET "); putu(nmis - 1); puts_(" (one lost), at the same place: ");
    puts_(yn(nmi_eip[1] == nmi_eip[0])); puts_(", nested: "); puts_(yn(max_depth > 1)); puts_("\n");
    check(count_before_iret == 1 && nmis == 2 && nmi_eip[1] == nmi_eip[0] && max_depth == 1, "blocking");
}

static void t_priority(void)
{
    reset(M_PRIO);
    __asm__ volatile("sti");
    send_nmi();
    delay_us(3000);
    __asm__ volatile("cli");
    puts_("NMI and vector 0x40 waiting at the handler's IRET: order "); print_order();
    puts_(", 0x40 in the IRR during both NMIs: "); puts_(yn(irr_40[0] && irr_40[1]));
    puts_(", in service: "); puts_(yn(isr_40)); puts_("\n");
    check(order[0] == 'N' && order[1] == 'N' && order[2] == 'V' && irr_40[1] && !isr_40, "priority");
}

static void t_nested_iret(void)
{
    reset(M_NEST);
    gate(2, KCODE, stubs[2], TRAPGATE);
    __asm__ volatile("sti");
    send_nmi();
    delay_us(3000);
    __asm__ volatile("cli");
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("trap-gate handler, vector 0x41 inside it: order "); print_order();
    puts_(", its IRET let the waiting NMI in, nested: "); puts_(yn(max_depth == 2));
    puts_(", at its return address: "); puts_(yn(nmi_eip[1] == v41_eip)); puts_("\n");
    check(order[0] == 'N' && order[1] == 'W' && order[2] == 'N' && max_depth == 2 && nmi_eip[1] == v41_eip, "nested IRET");
}

static void t_int2(void)
{
    reset(M_SOFT);
    __asm__ volatile("int $2");
    wait_nmis(1);
    puts_("INT 2 blocks nothing: an NMI sent in its handler came there: "); puts_(yn(soft_inside == 1)); puts_("\n");
    check(soft_inside == 1 && nmis == 1, "INT 2");
}

static void t_step(void)
{
    uint32_t after;
    reset(M_STEP);
    db_seen = 0;
    __asm__ volatile("pushfl; orl $0x100, (%%esp); popfl\n\t"
                     "movl %1, (%2)\n"
                     "1:\tmovl $1b, %0"
                     : "=r"(after) : "r"(ICR_NMI_SELF), "r"(mmio(LAPIC + 0x300)) : "memory");
    wait_nmis(1);
    puts_("single-step trap and NMI after one store: order "); print_order();
    puts_(", the NMI at the #DB handler's first instruction: "); puts_(yn(nmi_eip[0] == (uint32_t)db_entry));
    puts_(" (TF "); putu((nmi_fl[0] & EFL_TF) != 0); puts_("), #DB after the store: "); puts_(yn(db_eip == after));
    puts_(" (TF "); putu((db_fl & EFL_TF) != 0); puts_(")\n");
    check(order[0] == 'N' && order[1] == 'D' && nmi_eip[0] == (uint32_t)db_entry && db_eip == after, "step");
}

static void t_user(void)
{
    reset(M_USER);
    uint32_t r = run_user(user_a, 0x202);
    (void)r;
    puts_("from ring 3 to the kernel: frame CS "); putx(nmi_cs[0], 4); puts_(" SS "); putx(nmi_uss[0], 4);
    puts_(" IF "); putu((nmi_fl[0] & EFL_IF) != 0); puts_("\n");
    check(nmis == 1 && nmi_cs[0] == UCODE && nmi_uss[0] == 0x23, "from ring 3");
}

static void t_ring3_handler(void)
{
    gate(2, UCODE, (uint32_t)u_nmi, INTGATE);
    uint32_t n = run_user(user_a, 0x202);
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("ring 3 handler: taken "); putu(n); puts_(", frame CS "); putx(u_nmi_cs[0], 4);
    puts_(", the NMI it sent waited for its IRET: "); puts_(yn(u_nmi_seen_before_iret == 1));
    puts_(", came at the same place: "); puts_(yn(u_nmi_eip[1] == u_nmi_eip[0])); puts_("\n");
    check(n == 2 && u_nmi_seen_before_iret == 1 && u_nmi_eip[1] == u_nmi_eip[0] && u_nmi_cs[0] == UCODE, "ring 3 handler");
}

static void t_retf(void)
{
    gate(2, KCODE, (uint32_t)k_nmi_retf, TRAPGATE);
    uint32_t far = run_user(user_b, 0x202);
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("kernel handler back to ring 3 by far RET: still blocked there: "); puts_(yn(user_b_before == 1));
    puts_(", ring 3's own IRET let the NMI in: "); puts_(yn(user_b_after == 2));
    puts_(", right after it: "); puts_(yn(k_nmi_eip[1] == (uint32_t)user_b_label));
    puts_(", far JMP, CALL and RET in ring 3 after: "); puts_(yn(far == 1)); puts_("\n");
    check(user_b_before == 1 && user_b_after == 2 && k_nmi_eip[1] == (uint32_t)user_b_label && far == 1, "far RET");
    /* That one went back by far RET as well: NMIs are blocked until the kernel IRETs. */
    reset(M_PLAIN);
    send_nmi();
    delay_us(2000);
    uint32_t held = nmis;
    iret_self();
    puts_("still blocked in the kernel: "); puts_(yn(held == 0)); puts_(", an IRET to itself let it in: ");
    puts_(yn(nmis == 1)); puts_("\n");
    check(held == 0 && nmis == 1, "IRET to itself");
}

static void t_task(void)
{
    nmi_tss.eip = (uint32_t)nmi_task;
    nmi_tss.eflags = 0x2;
    nmi_tss.esp = (uint32_t)nmi_task_stack_top;
    nmi_tss.cs = KCODE;
    nmi_tss.ss = nmi_tss.ds = nmi_tss.es = nmi_tss.fs = nmi_tss.gs = 0x10;
    __asm__ volatile("movl %%cr3, %0" : "=r"(nmi_tss.cr3));
    tss_desc(6, &nmi_tss);
    gate(2, 0x30, 0, TASKGATE);
    send_nmi();
    for (unsigned i = 0; i < 50 && t_nmi_count < 2; i++) delay_us(1000);
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("task gate: switches "); putu(t_nmi_count); puts_(", NT in the task "); putu((t_nmi_flags & EFL_NT) != 0);
    puts_(", back link "); putx(t_nmi_link, 4); puts_(", the NMI it sent waited for its IRET: ");
    puts_(yn(t_nmi_before == 1)); puts_("\n");
    check(t_nmi_count == 2 && (t_nmi_flags & EFL_NT) && t_nmi_link == 0x28 && t_nmi_before == 1, "task gate");
}

static void t_bad_gates(void)
{
    reset(M_PLAIN);
    idt[2] &= ~((uint64_t)0x80 << 40);          /* not present */
    np_seen = 0;
    send_nmi();
    delay_us(1000);
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("gate 2 not present: #NP "); putu(np_seen); puts_(", error "); putx(np_err & ~1u, 4);
    puts_(" (not a double fault)");
    send_nmi();
    wait_nmis(1);
    puts_(", NMIs after its IRET: "); putu(nmis); puts_("\n");
    check(np_seen == 1 && (np_err & ~1u) == 0x12 && nmis == 1, "gate not present");
    reset(M_PLAIN);
    gate(2, KCODE, stubs[2], 0x84);             /* a 286 call gate: no interrupt gate at all */
    gp_seen = 0;
    send_nmi();
    delay_us(1000);
    gate(2, KCODE, stubs[2], INTGATE);
    puts_("gate 2 a call gate: #GP "); putu(gp_seen); puts_(", error "); putx(gp_err & ~1u, 4); puts_("\n");
    check(gp_seen == 1 && (gp_err & ~1u) == 0x12, "call gate");
    iret_self();
    /* INT 13 is no exception either, through a task gate too: one not present is #NP. */
    uint64_t g13 = idt[13];
    gate(13, 0x30, 0, TASKGATE & 0x7f);
    np_seen = 0;
    np_skip = 2;
    __asm__ volatile("int $13");
    np_skip = 0;
    idt[13] = g13;
    puts_("INT 13 through a task gate not present: #NP "); putu(np_seen); puts_(", error "); putx(np_err, 4);
    puts_("\n");
    check(np_seen == 1 && np_err == 13 * 8 + 2, "INT 13 task gate");
}

static void ioapic_wr(uint8_t r, uint32_t v) { *mmio(0xfec00000u) = r; *mmio(0xfec00010u) = v; }
static void pit0_oneshot(uint16_t count)
{
    outb(0x43, 0x30);                           /* channel 0, mode 0: output rises at the end */
    outb(0x40, (uint8_t)count);
    outb(0x40, (uint8_t)(count >> 8));
}

static void t_ioapic(void)
{
    uint32_t after;
    reset(M_PLAIN);
    ioapic_wr(0x10 + 2 * 2, 0x400);             /* pin 2 (the PIT), NMI, edge, physical 0 */
    ioapic_wr(0x11 + 2 * 2, 0);
    pit0_oneshot(1193);
    __asm__ volatile("cli; hlt\n1:\tmovl $1b, %0" : "=r"(after));
    puts_("HLT with IF clear, PIT through an NMI entry: woken "); putu(nmis);
    puts_(", frame EIP after the HLT: "); puts_(yn(nmi_eip[0] == after)); puts_("\n");
    check(nmis == 1 && nmi_eip[0] == after, "HLT");
    reset(M_PLAIN);
    pit0_oneshot(1193);
    uint32_t spins = 0;
    while (!nmis && spins < 400000000u) spins++;
    ioapic_wr(0x10 + 2 * 2, 0x10000);
    puts_("a loop that never traps, IF clear: the NMI came: "); puts_(yn(nmis == 1)); puts_("\n");
    check(nmis == 1, "spin");
}

static void t_logical(void)
{
    reset(M_PLAIN);
    lapic_wr(0xe0, 0xffffffffu);                /* flat model */
    lapic_wr(0xd0, 0x04000000);                 /* logical ID bit 2 */
    lapic_wr(0x310, 0x0c000000);
    __asm__ volatile("movl %0, (%1); jmp 1f; 1:" :: "r"(0x0c00u), "r"(mmio(LAPIC + 0x300)) : "memory");
    wait_nmis(1);
    uint32_t mine = nmis;
    lapic_wr(0x310, 0x03000000);
    __asm__ volatile("movl %0, (%1); jmp 1f; 1:" :: "r"(0x0c00u), "r"(mmio(LAPIC + 0x300)) : "memory");
    delay_us(2000);
    lapic_wr(0x310, 0);
    puts_("logical destination: to my bit "); putu(mine); puts_(", to others' bits "); putu(nmis - mine); puts_("\n");
    check(mine == 1 && nmis == 1, "logical");
}

uint32_t kmain(void);
uint32_t kmain(void)
{
    for (unsigned v = 0; v < 256; v++) gate(v, KCODE, stubs[v], INTGATE);
    gate(0x30, KCODE, (uint32_t)user_back, 0xee);   /* DPL 3: ring 3 comes back with INT 0x30 */
    gate(2, KCODE, stubs[2], INTGATE);
    tss_main.esp0 = (uint32_t)kstack0_top;
    tss_main.ss0 = 0x10;
    tss_main.iomap = sizeof tss_main;
    tss_desc(5, &tss_main);
    __asm__ volatile("ltr %w0" :: "r"(0x28));
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    puts_("nmiblock\n");
    t_gates();
    t_blocking();
    t_priority();
    t_nested_iret();
    t_int2();
    t_step();
    t_user();
    t_ring3_handler();
    t_retf();
    t_task();
    t_bad_gates();
    t_ioapic();
    t_logical();
    puts_(failures ? "some checks failed\n" : "all checks passed\n");
    return failures;
}

/* apicos: leaving the 8259 behind, bringing up the local APIC, interprocessor interrupts to
 * this CPU, and looking for other CPUs with INIT and start-up IPIs. */
#include "hw.h"

/* ---- the 8259s: remapped out of the exception vectors, then masked for good ---- */

static void pic_stray(struct frame *f) { (void)f; }

void pic_disable(void)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    for (unsigned v = 0x20; v < 0x30; v++) set_handler(v, pic_stray);
    kprintf("pic: remapped to 0x20/0x28, masks %02x %02x\n", inb(0x21), inb(0xa1));
}

/* ---- the local APIC ---- */

static volatile uint32_t spurious;
static void on_spurious(struct frame *f) { (void)f; spurious++; }   /* no EOI for these */
static volatile uint32_t apic_errors, last_esr;
static void on_error(struct frame *f)
{
    (void)f;
    lapic_wr(L_ESR, 0);
    last_esr = lapic_rd(L_ESR);
    apic_errors++;
    lapic_eoi();
}

void lapic_setup(void)
{
    uint64_t base = rdmsr(0x1b);
    uint32_t ver = lapic_rd(L_VER);
    kprintf("lapic: IA32_APIC_BASE %08x (enabled %u, BSP %u)\n", (uint32_t)base & 0xfffff000u,
            (unsigned)(base >> 11) & 1, (unsigned)(base >> 8) & 1);
    kprintf("lapic: ID %u, version %02x, max LVT %u, %s\n", lapic_rd(L_ID) >> 24, ver & 0xff,
            (ver >> 16) & 0xff, (ver & 0xf0) == 0x10 ? "integrated" : "82489DX");
    uint32_t lint0 = lapic_rd(L_LINT0), lint1 = lapic_rd(L_LINT1);
    kprintf("lapic: as the BIOS left it: software %s, LINT0 mode %u %s, LINT1 mode %u %s\n",
            (lapic_rd(L_SVR) & 0x100) ? "enabled" : "disabled",
            (lint0 >> 8) & 7, (lint0 & 0x10000) ? "masked" : "open", (lint1 >> 8) & 7,
            (lint1 & 0x10000) ? "masked" : "open");

    set_handler(0xff, on_spurious);
    set_handler(0xfe, on_error);
    lapic_wr(L_TPR, 0);
    lapic_wr(L_DFR, 0xffffffffu);
    lapic_wr(L_LDR, 1u << 24);
    lapic_wr(L_SVR, 0x100 | 0xff);
    lapic_wr(L_ESR, 0);                        /* Linux: clear, then look */
    uint32_t before = lapic_rd(L_ESR);
    lapic_wr(L_LVTERR, 0xfe);
    lapic_wr(L_ESR, 0);
    uint32_t after = lapic_rd(L_ESR);
    lapic_wr(L_LINT0, 0x10000 | 0x700);        /* ExtINT, masked: the 8259 is gone */
    lapic_wr(L_LINT1, 0x400);                  /* NMI */
    lapic_wr(L_LVTT, 0x10000 | 0x40);
    kprintf("lapic: ESR before %x after %x\n", before, after);
    kprintf("lapic: SVR %x TPR %x PPR %x DFR %08x LDR %08x\n", lapic_rd(L_SVR), lapic_rd(L_TPR),
            lapic_rd(L_PPR), lapic_rd(L_DFR), lapic_rd(L_LDR));
    kprintf("lapic: LINT0 %x LINT1 %x error %x timer %x\n", lapic_rd(L_LINT0), lapic_rd(L_LINT1),
            lapic_rd(L_LVTERR), lapic_rd(L_LVTT));

    /* The spurious vector's low four bits are the guest's on P6 and later. */
    lapic_wr(L_SVR, 0x100 | 0x3f);
    uint32_t svr3f = lapic_rd(L_SVR);
    /* Bit 9, focus processor checking, is not there on this APIC version (0x14, the Pentium
     * 4's xAPIC, which has no focus processor). */
    lapic_wr(L_SVR, 0x200 | 0x100 | 0xff);
    uint32_t svr2 = lapic_rd(L_SVR);
    lapic_wr(L_SVR, 0x100 | 0xff);
    kprintf("lapic: SVR with vector 3f reads %x, with bit 9 %x\n", svr3f, svr2);
}

/* ---- IPIs ---- */

enum { SH_NONE = 0, SH_SELF = 1 << 18, SH_ALL = 2 << 18, SH_OTHERS = 3 << 18 };
enum { DM_FIXED = 0, DM_LOWPRI = 1 << 8, DM_INIT = 5 << 8, DM_STARTUP = 6 << 8 };
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)

static bool icr_wait_idle(void)
{
    for (unsigned i = 0; i < 100000; i++)
        if (!(lapic_rd(L_ICRLO) & (1u << 12))) return true;
    return false;
}

static void send_ipi(uint8_t dest, uint32_t lo)
{
    lapic_wr(L_ICRHI, (uint32_t)dest << 24);
    lapic_wr(L_ICRLO, lo);
    expect(icr_wait_idle(), "ICR delivery status goes idle");
}

/* A handler that notes what the APIC shows while the vector is in service, then ends it. */
static volatile uint32_t seen_isr, seen_ppr, seen_irr52;
static void on_ipi(struct frame *f)
{
    seen_isr = lapic_bit(L_ISR, f->vector);
    seen_ppr = lapic_rd(L_PPR);
    if (f->vector == 0x5a) seen_irr52 = lapic_bit(L_IRR, 0x52);
    lapic_eoi();
}

/* Vector 0x44 takes a higher and a lower vector while it runs: the higher one nests. */
static volatile uint32_t nested_ppr, outer_ppr_after;
static void on_nesting(struct frame *f)
{
    (void)f;
    send_ipi(0, SH_SELF | 0x64);
    send_ipi(0, SH_SELF | 0x34);
    irq_window();
    outer_ppr_after = lapic_rd(L_PPR);
    vlog[vlog_n < 64 ? vlog_n : 63] = 0xee;   /* the outer handler's end */
    vlog_n++;
    lapic_eoi();
}
static void on_nested(struct frame *f) { (void)f; nested_ppr = lapic_rd(L_PPR); lapic_eoi(); }

static volatile uint32_t again;
static void on_again(struct frame *f)
{
    (void)f;
    if (again) { again = 0; send_ipi(0, SH_SELF | 0x67); }
    lapic_eoi();
}

static uint32_t irr_word(unsigned v) { return lapic_rd(L_IRR + (v >> 5) * 0x10); }

void ipi_tests(void)
{
    static const uint8_t vecs[] = { 0x34, 0x45, 0x50, 0x52, 0x55, 0x58, 0x5a, 0x60, 0x65, 0x66, 0x70, 0x71, 0x80, 0x90 };
    for (unsigned i = 0; i < sizeof vecs; i++) set_handler(vecs[i], on_ipi);
    set_handler(0x44, on_nesting);
    set_handler(0x64, on_nested);
    set_handler(0x67, on_again);
    for (unsigned v = 0x72; v <= 0x73; v++) set_handler(v, on_ipi);

    /* Every addressing form, sent with interrupts off: who accepted what shows in the IRR. */
    cli();
    vlog_reset();
    send_ipi(0, SH_SELF | 0x50);
    send_ipi(0, SH_NONE | 0x60);                          /* physical, my ID */
    send_ipi(0x01, SH_NONE | ICR_LOGICAL | 0x70);         /* logical, my LDR bit */
    send_ipi(0x02, SH_NONE | ICR_LOGICAL | 0x71);         /* logical, somebody else's */
    send_ipi(0, SH_ALL | 0x80);
    send_ipi(0, SH_OTHERS | 0x90);
    send_ipi(5, SH_NONE | 0x58);                          /* an APIC ID nobody has */
    send_ipi(0x01, SH_NONE | ICR_LOGICAL | DM_LOWPRI | 0x66);
    kprintf("ipi: IRR %08x %08x %08x, TMR %08x, ISR %08x, PPR %x\n", irr_word(0x40), irr_word(0x60),
            irr_word(0x80), lapic_rd(L_TMR + 0x30), lapic_rd(L_ISR + 0x30), lapic_rd(L_PPR));
    kprintf("ipi: ICR reads %08x %08x\n", lapic_rd(L_ICRHI), lapic_rd(L_ICRLO));
    irq_window();
    vlog_print("ipi: taken");
    kprintf("ipi: in service while handled %u, PPR then %x, IRR now %08x\n", seen_isr, seen_ppr, irr_word(0x60));

    /* Nesting: a higher class interrupts a handler that opens IF, a lower one waits. */
    vlog_reset();
    send_ipi(0, SH_SELF | 0x44);
    irq_window();
    vlog_print("ipi: nesting");
    kprintf("ipi: PPR in the nested handler %x, in the outer one after it %x\n", nested_ppr, outer_ppr_after);

    /* Two vectors of one class: the second waits for the first's EOI. */
    vlog_reset();
    send_ipi(0, SH_SELF | 0x52);
    send_ipi(0, SH_SELF | 0x5a);
    irq_window();
    vlog_print("ipi: one class");
    kprintf("ipi: 52 still requested while 5a ran: %u\n", seen_irr52);

    /* The task priority holds back whole classes. */
    vlog_reset();
    lapic_wr(L_TPR, 0x50);
    send_ipi(0, SH_SELF | 0x45);
    send_ipi(0, SH_SELF | 0x55);
    send_ipi(0, SH_SELF | 0x65);
    kprintf("tpr: 50: PPR %x\n", lapic_rd(L_PPR));
    irq_window();
    vlog_print("tpr: 50 lets in");
    lapic_wr(L_TPR, 0x4f);
    kprintf("tpr: 4f: PPR %x\n", lapic_rd(L_PPR));
    irq_window();
    vlog_print("tpr: 4f lets in");
    lapic_wr(L_TPR, 0x3f);
    irq_window();
    vlog_print("tpr: 3f lets in");
    lapic_wr(L_TPR, 0);
    irq_window();
    kprintf("tpr: IRR after %08x\n", irr_word(0x40));

    /* A software-disabled APIC holds what it has; enabling it again lets it in. */
    vlog_reset();
    send_ipi(0, SH_SELF | 0x66);
    lapic_wr(L_SVR, 0xff);
    irq_window();
    kprintf("svr: disabled: SVR %x, 66 requested %u, taken %u\n", lapic_rd(L_SVR), lapic_bit(L_IRR, 0x66), vlog_n);
    lapic_wr(L_SVR, 0x1ff);
    lapic_wr(L_LVTERR, 0xfe);
    lapic_wr(L_LINT0, 0x10700);
    lapic_wr(L_LINT1, 0x400);
    irq_window();
    vlog_print("svr: enabled again");

    /* A vector requested again while it is in service runs again after its EOI. */
    vlog_reset();
    again = 1;
    send_ipi(0, SH_SELF | 0x67);
    irq_window();
    vlog_print("ipi: 67 sent again from its own handler");

    /* The cluster model: LDR 0x21 is cluster 2, member bit 0. */
    lapic_wr(L_DFR, 0x0fffffffu);
    lapic_wr(L_LDR, 0x21u << 24);
    vlog_reset();
    send_ipi(0x21, SH_NONE | ICR_LOGICAL | 0x70);
    send_ipi(0x11, SH_NONE | ICR_LOGICAL | 0x71);
    send_ipi(0x2e, SH_NONE | ICR_LOGICAL | 0x72);
    send_ipi(0x23, SH_NONE | ICR_LOGICAL | 0x73);
    irq_window();
    vlog_print("ipi: cluster 21 takes (21, 11, 2e, 23 sent)");
    kprintf("ipi: DFR %08x LDR %08x\n", lapic_rd(L_DFR), lapic_rd(L_LDR));
    lapic_wr(L_DFR, 0xffffffffu);
    lapic_wr(L_LDR, 1u << 24);

    /* A new APIC ID (writable on this model): physical destinations follow it. */
    lapic_wr(L_ID, 5u << 24);
    vlog_reset();
    send_ipi(5, SH_NONE | 0x72);
    send_ipi(0, SH_NONE | 0x73);
    irq_window();
    kprintf("ipi: ID now %u; sent to 5 and 0: ", lapic_rd(L_ID) >> 24);
    vlog_print("taken");
    lapic_wr(L_ID, 0);

    /* An EOI with nothing in service changes nothing. */
    lapic_eoi();
    kprintf("eoi: spare EOI: ISR %08x PPR %x\n", lapic_rd(L_ISR + 0x20) | lapic_rd(L_ISR + 0x30), lapic_rd(L_PPR));
    lapic_wr(L_ESR, 0);
    kprintf("esr: %x, error interrupts %u\n", lapic_rd(L_ESR), apic_errors);
}

/* ---- other CPUs: INIT, INIT de-assert, two start-up IPIs (the MP specification's
 * universal start-up algorithm), then a wait for the trampoline's sign of life ---- */

#define TRAMPOLINE 0x8000u
#define ALIVE_FLAG 0x8ff0u

static void cmos_write(uint8_t reg, uint8_t v) { outb(0x70, reg); outb(0x71, v); }

static void put_trampoline(void)
{
    /* 16-bit code: mov byte [0x0ff0], 0xa5 (DS = CS = 0x0800); cli; hlt; jmp $-2 */
    static const uint8_t code[] = { 0x8c, 0xc8, 0x8e, 0xd8, 0xc6, 0x06, 0xf0, 0x0f, 0xa5, 0xfa, 0xf4, 0xeb, 0xfd };
    for (unsigned i = 0; i < sizeof code; i++) poke8(TRAMPOLINE + i, code[i]);
    poke8(ALIVE_FLAG, 0);
}

static bool wait_alive(unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (peek8(ALIVE_FLAG) == 0xa5) return true;
        pit_delay_us(1000);
    }
    return false;
}

static uint32_t esr_now(void) { lapic_wr(L_ESR, 0); return lapic_rd(L_ESR); }

static void wake(uint8_t apic_id, uint32_t shorthand, const char *who)
{
    put_trampoline();
    cmos_write(0x0f, 0x0a);                                  /* warm reset: jump via 40:67 */
    poke16(0x467, 0);
    poke16(0x469, TRAMPOLINE >> 4);
    uint32_t esr0 = esr_now();
    send_ipi(apic_id, shorthand | DM_INIT | ICR_LEVEL | ICR_ASSERT);
    uint32_t icr_init = lapic_rd(L_ICRLO);
    pit_delay_us(10000);
    send_ipi(apic_id, shorthand | DM_INIT | ICR_LEVEL);
    uint32_t accept = 0;
    for (int i = 0; i < 2; i++) {
        lapic_wr(L_ESR, 0);
        send_ipi(apic_id, shorthand | DM_STARTUP | (TRAMPOLINE >> 12));
        pit_delay_us(200);
        accept |= esr_now();
    }
    uint32_t icr_sipi = lapic_rd(L_ICRLO);
    bool alive = wait_alive(50);
    cmos_write(0x0f, 0);
    kprintf("smp: %s: ESR %x, ICR after INIT %x, after SIPI %x, accept status %x, %s\n", who, esr0,
            icr_init, icr_sipi, accept, alive ? "CPU started" : "no response");
}

void smp_probe(void)
{
    kprintf("smp: the tables list %u CPU(s), APIC ID %u first\n", plat.ncpus, plat.cpu_apic_id[0]);
    static const char *names[] = { "APIC ID 0", "APIC ID 1", "APIC ID 2", "APIC ID 3" };
    for (uint8_t id = 1; id < 4; id++) wake(id, SH_NONE, names[id]);
    wake(0, SH_OTHERS, "all but self");
    /* The INIT de-assert message (level, not asserted) to everybody, as the MP
     * specification's older start-up sequence sends it: it resets nobody. */
    send_ipi(0, SH_ALL | DM_INIT | ICR_LEVEL);
    kprintf("smp: INIT de-assert to all including self: still here, ID %u\n", lapic_rd(L_ID) >> 24);
    kprintf("smp: spurious interrupts so far %u, APIC errors %u\n", spurious, apic_errors);
}

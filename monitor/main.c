/* The monitor's life cycle: first start, suspension with a continuation, resume, stop. */
#include "monitor/mon.h"
#include "monitor/tables.h"
#include "monitor/pool.h"
#include "monitor/reflect.h"
#include "monitor/desc.h"
#include "paging/paging.h"
#include "monitor/code.h"
#include "monitor/nmi.h"
#include "arch/x86/regs.h"
#include "arch/x86/msr.h"
#include "lib/fmt.h"
#include "lib/string.h"

struct vcpu vcpu;
static struct { cont_fn fn; uint32_t ctx; } cont;
static bool booted;
extern void trans_to_host(void);

/* First entry: build the tables, the virtual CPU in the Multiboot entry state, the shadows. */
static void boot(struct guest_frame *f)
{
    tables_init();
    memset(&vcpu, 0, sizeof vcpu);
    vcpu.cr0 = CR0_PE | CR0_ET;
    vcpu.pending_vector = -1;
    vcpu.pat = 0x0007040600070406ull;
    vcpu.xcr0 = 1;                     /* x87 state only, as after reset */
    pool_init();
    desc_init();
    pt_init();
    code_init();
    memset(f, 0, sizeof *f);
    f->eip = shared->entry_eip;
    f->eax = shared->entry_eax;
    f->ebx = shared->entry_ebx;
    f->cs = GUEST_BOOT_CS | 3;
    f->ss = GUEST_BOOT_DS | 3;
    f->ds = f->es = f->fs = f->gs = GUEST_BOOT_DS;
    f->eflags = EFL_FIXED;
    f->esp = GUEST_BOOT_ESP;
}

/* May the supervisor acknowledge an interrupt for the guest now (shared->guest_if)? Its IF is
 * set and no STI or SS-load shadow covers the instruction at EIP: that instruction runs
 * first and may be CLI, and an interrupt acknowledged before it would leave the 8259's IRR
 * for its ISR although the guest never takes it. */
static bool guest_takes_irq(const struct guest_frame *f)
{
    return (f->eflags & EFL_IF) && !(vcpu.irq_shadow && f->eip == vcpu.shadow_eip);
}

void suspend(const struct msg *req, cont_fn fn, uint32_t ctx)
{
    shared->count.suspensions++;
    shared->guest_if = guest_takes_irq(GUEST_FRAME);
    shared->vector_held = vcpu.pending_vector >= 0;
    shared->nmi_blocked = vcpu.nmi_blocked;
    pool_maybe_ask();
    if (req && !ring_put(&ring->to_host, req)) {
        /* The supervisor drains the ring at every suspension, so this cannot happen unless
         * the page is corrupt: stopping is the only honest answer. */
        guest_stop(STOP_MONITOR_FAULT, "message ring to the host is full");
    }
    cont.fn = fn;
    cont.ctx = ctx;
    __asm__ volatile("cli; jmp trans_to_host" ::: "memory");
    __builtin_unreachable();
}

/* A stopped guest never runs again: if resumed anyway, stop again. */
static void stay_stopped(struct guest_frame *f, const struct msg *m, uint32_t ctx)
{
    (void)f; (void)m; (void)ctx;
    struct msg req = { .type = MSG_GUEST_STOP, .a = { shared->stop_reason } };
    suspend(&req, stay_stopped, 0);
}

void guest_stop(enum stop_reason why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnfmt(shared->text, sizeof shared->text, fmt, ap);
    va_end(ap);
    shared->stop_reason = why;
    shared->regs = *GUEST_FRAME;
    /* Report the selectors the guest believes it has (virtual RPL = its CPL). */
    shared->regs.cs = (desc_guest_sel(shared->regs.cs) & ~3u) | vcpu.cpl;
    shared->regs.ss = (desc_guest_sel(shared->regs.ss) & ~3u) | vcpu.cpl;
    shared->regs.ds = desc_guest_sel(shared->regs.ds);
    shared->regs.es = desc_guest_sel(shared->regs.es);
    shared->regs.fs = desc_guest_sel(shared->regs.fs);
    shared->regs.gs = desc_guest_sel(shared->regs.gs);
    shared->cr0 = vcpu.cr0; shared->cr2 = vcpu.cr2; shared->cr3 = vcpu.cr3; shared->cr4 = vcpu.cr4;
    shared->cpl = vcpu.cpl;
    struct msg req = { .type = MSG_GUEST_STOP, .a = { why } };
    ring_init(ring);                       /* nothing else the monitor said matters now */
    suspend(&req, stay_stopped, 0);
}

void mon_log(const char *fmt, ...)
{
    va_list ap;
    uint32_t room = sizeof shared->log - shared->log_len;
    if (room < 2) return;
    va_start(ap, fmt);
    int n = vsnfmt(shared->log + shared->log_len, room, fmt, ap);
    va_end(ap);
    shared->log_len += (uint32_t)n < room ? (uint32_t)n : room - 1;
}

uint32_t guest_eflags(const struct guest_frame *f)
{
    return (f->eflags & ~EFL_IOPL) | (vcpu.iopl << EFL_IOPL_SHIFT);
}

void set_guest_eflags(struct guest_frame *f, uint32_t fl, uint32_t mask)
{
    if (mask & EFL_IOPL) {
        uint32_t was = vcpu.iopl;
        vcpu.iopl = (fl & EFL_IOPL) >> EFL_IOPL_SHIFT;
        if (!was != !vcpu.iopl) code_iopl_changed();
    }
    mask &= ~(EFL_IOPL | EFL_VM | EFL_VIF | EFL_VIP);
    f->eflags = (f->eflags & ~mask) | (fl & mask) | EFL_FIXED;
}

#define CR0_FPU_BITS (CR0_MP | CR0_EM | CR0_TS | CR0_NE)
#define CR4_GUEST_BITS (CR4_TSD | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE | CR4_PKE)

void fpu_sync_cr0(void)
{
    uint32_t cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    uint32_t want = (cr0 & ~CR0_FPU_BITS) | (vcpu.cr0 & CR0_FPU_BITS);
    if (want != cr0) __asm__ volatile("mov %0, %%cr0" :: "r"(want));
    /* The guest's CR4 bits that act at CPL3 or on the FPU: TSD (RDTSC and RDTSCP in its user
     * mode fault, in its kernel they trap and are emulated), OSFXSR and OSXMMEXCPT (SSE is
     * #UD without the first), OSXSAVE (XGETBV, and what CPUID shows), PKE (RDPKRU/WRPKRU and
     * CPUID's OSPKE; protection keys act only in 4-level paging, never on umbra's PAE tables). */
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    want = (cr4 & ~CR4_GUEST_BITS) | (vcpu.cr4 & CR4_GUEST_BITS);
    if (want != cr4) __asm__ volatile("mov %0, %%cr4" :: "r"(want));
    if (want & CR4_OSXSAVE)
        __asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)vcpu.xcr0), "d"((uint32_t)(vcpu.xcr0 >> 32)));
    /* RDTSCP runs natively and reads IA32_TSC_AUX: the guest's, on a CPU that has it. */
    static int has_rdtscp = -1;
    if (has_rdtscp < 0) {
        uint32_t a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
        if (a >= 0x80000001u) __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
        else d = 0;
        has_rdtscp = (d >> 27) & 1;
    }
    if (has_rdtscp) __asm__ volatile("wrmsr" :: "c"(MSR_TSC_AUX), "a"(vcpu.tsc_aux), "d"(0));
}

void open_irq_shadow(const struct guest_frame *f)
{
    vcpu.irq_shadow = true;
    vcpu.shadow_nmi = false;
    vcpu.shadow_eip = f->eip;
}

void open_ss_shadow(const struct guest_frame *f)
{
    open_irq_shadow(f);
    vcpu.shadow_nmi = true;
}

/* Deliver a waiting virtual NMI or interrupt if the guest can take one; keep the real IOPL at
 * 0. An NMI goes first (SDM Vol. 3A table 6-2), whatever IF says; a maskable interrupt may
 * then follow at once, at the NMI handler's first instruction, if its gate left IF set.
 * After STI or an SS load the CPU lets one more instruction run before an interrupt (after an
 * SS load, before an NMI too). Until that instruction has run (the guest is about to resume
 * at shadow_eip) nothing it holds back is delivered; if something waits, the monitor steps
 * over the instruction with a TF of its own, hidden again at the next trap, and delivers
 * after it. */
void before_guest(struct guest_frame *f)
{
    vcpu.iret_faulted = false;
    f->eflags &= ~EFL_IOPL;
    if (vcpu.irq_shadow && f->eip != vcpu.shadow_eip) vcpu.irq_shadow = false;
    if (!pt_stepping()) nmi_deliver_due(f);
    if (pt_stepping()) {
        /* A table write is being stepped: the instruction runs before any interrupt. */
    } else if (vcpu.irq_shadow) {
        bool irq_waits = (f->eflags & EFL_IF) && (vcpu.pending_vector >= 0 || shared->irq_pending);
        if ((irq_waits || nmi_waits_for_shadow(f)) && !vcpu.shadow_step) {
            vcpu.shadow_step = true;
            vcpu.guest_tf = (f->eflags & EFL_TF) != 0;
            f->eflags |= EFL_TF;
        }
    } else if (f->eflags & EFL_IF) {
        if (vcpu.pending_vector >= 0) {
            int v = vcpu.pending_vector;
            vcpu.pending_vector = -1;
            shared->count.interrupts_injected++;
            deliver_interrupt(f, (unsigned)v);
        } else if (shared->irq_pending) {
            struct msg req = { .type = MSG_WANT_IRQ };
            suspend(&req, 0, 0);
        }
    }
    nmi_hide_sync(f);
    shared->guest_if = guest_takes_irq(f);
    pt_sync();
}

void monitor_resume(struct guest_frame *f)
{
    struct msg m, answer;
    bool have_answer = false;
    if (!booted) { boot(f); booted = true; }
    vcpu.iret_faulted = false;
    fpu_sync_cr0();      /* the host may have touched CR0 while switching FPU state */
    if (vcpu.ldtr & ~3u) desc_ldt_install(shared->region);   /* LDTR is the host's while it runs */
    while (ring_get(&ring->to_monitor, &m)) {
        switch (m.type) {
        case MSG_INJECT: vcpu.pending_vector = (int32_t)(m.a[0] & 0xff); break;
        case MSG_PAGES: pool_add(m.a[0], m.a[1], m.a[2] != 0); break;
        case MSG_SHRINK: pt_shrink(m.a[0]); break;
        default: answer = m; have_answer = true; break;
        }
    }
    if (cont.fn) {
        cont_fn fn = cont.fn;
        cont.fn = 0;
        fn(f, have_answer ? &answer : 0, cont.ctx);
    }
    before_guest(f);
}

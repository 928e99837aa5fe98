/* The run loop: enter a VM's monitor, serve what it asked for on the ring, choose the next. */
#include "supervisor/sched.h"
#include "supervisor/vm.h"
#include "supervisor/memory.h"
#include "supervisor/log.h"
#include "supervisor/config.h"
#include "supervisor/clock.h"
#include "arch/x86/trap.h"
#include "arch/x86/cpu.h"
#include "arch/x86/regs.h"
#include "drivers/pit.h"
#include "drivers/serial.h"
#include "lib/ring.h"
#include "lib/string.h"

#define UMBRA_EXIT_VM_STOPPED 0x7e

void world_enter(uint32_t tramp_cr3, uint32_t entry_linear, uint32_t trans_linear);

/* Answer the monitor: a full ring means the monitor has not read; never overwrite. */
static void answer(struct vm *vm, const struct msg *m)
{
    if (!ring_put(&vm->ring->to_monitor, m))
        kprintf("umbra: vm %s: ring to the monitor is full; answer %s held back\n", vm->set.name, msg_name(m->type));
}

/* How many of `want` pool pages the poolmem= budget still allows. */
static uint32_t pool_budget(uint32_t want)
{
    if (!config.poolmem) return want;
    uint32_t held = 0;
    for (unsigned i = 0; i < nvms; i++) if (vms[i].state != VM_ENDED) held += vms[i].pool_backed;
    uint32_t left = held < config.poolmem ? config.poolmem - held : 0;
    return want < left ? want : left;
}

/* Memory pressure: ask every other running VM's monitor to drop cold shadows and give back
 * n pages (it does at its next run). true if anyone was asked. */
static bool ask_others_to_shrink(struct vm *vm, uint32_t n)
{
    bool asked = false;
    for (unsigned i = 0; i < nvms; i++) {
        struct vm *o = &vms[i];
        if (o == vm || o->state == VM_ENDED || o->pool_backed <= 8) continue;
        struct msg s = { .type = MSG_SHRINK, .a = { n } };
        if (ring_put(&o->ring->to_monitor, &s)) { o->shrinks_asked++; asked = true; }
    }
    return asked;
}

/* Print what the monitor left in its log buffer. */
static void flush_monitor_log(struct vm *vm)
{
    struct vm_shared *s = vm->shared;
    if (!s->log_len) return;
    if (s->log_len > sizeof s->log) s->log_len = sizeof s->log;
    s->log[s->log_len < sizeof s->log ? s->log_len : sizeof s->log - 1] = 0;
    kprintf("%s", s->log);
    s->log_len = 0;
}

static const char *const emu_names[EMU_KINDS] = {
    "cli", "sti", "hlt", "in", "out", "ins", "outs", "mov-cr", "mov-dr", "lgdt", "lidt", "lldt",
    "ltr", "sgdt", "sidt", "sldt", "str", "smsw", "lmsw", "clts", "invlpg", "rdmsr", "wrmsr",
    "wbinvd", "int", "iret", "retf", "load-ss", "sysenter", "sysexit", "popf", "pushf", "mov/push-cs-ss", "lar/lsl/verr/verw",
    "rdtsc", "rdpmc", "task-switch", "call-gate",
};

/* The VM's counters: traps by cause, emulated instructions by kind. */
static void print_counters(struct vm *vm)
{
    const struct vm_counters *c = &vm->shared->count;
    kprintf("vm %s: traps:", vm->set.name);
    for (unsigned v = 0; v < 48; v++) if (c->traps[v]) kprintf(" #%u=%u", v, c->traps[v]);
    if (c->traps[48]) kprintf(" int=%u", c->traps[48]);
    kprintf("\nvm %s: emulated:", vm->set.name);
    for (unsigned k = 0; k < EMU_KINDS; k++) if (c->emulated[k]) kprintf(" %s=%u", emu_names[k], c->emulated[k]);
    kprintf("\nvm %s: reflected:", vm->set.name);
    for (unsigned v = 0; v < 32; v++) if (c->reflected[v]) kprintf(" #%u=%u", v, c->reflected[v]);
    kprintf("\nvm %s: interrupts injected %u, shadow fills %u, flushes %u, guest page faults %u, suspensions %u\n",
            vm->set.name, c->interrupts_injected, c->shadow_fills, c->shadow_flushes, c->guest_page_faults,
            c->suspensions);
    const struct pt_counters *p = &c->pt;
    if (vm->set.pt.engine == PT_SHADOW) {
        kprintf("vm %s: shadow: roots built %u reused %u dropped %u, table writes emulated %u stepped %u, "
                "table reads emulated %u, unshadowed %u, prefaulted %u, resets %u, shrinks %u\n",
                vm->set.name, p->roots_built, p->roots_reused, p->roots_dropped, p->writes_emulated,
                p->writes_stepped, p->reads_emulated, p->unshadowed, p->prefaulted, p->zaps, p->shrinks);
        kprintf("vm %s: shadow pages %u (most %u), protected tables at most %u, software TLB hits %u misses %u\n",
                vm->set.name, p->pages_now, p->pages_max, p->tables_max, p->stlb_hits, p->stlb_misses);
    }
    if (vm->shared->scan) {
        const struct scan_counters *k = &c->scan;
        kprintf("vm %s: scan: code pages copied %u (at most %u at once, dropped on write %u, evicted %u, "
                "writes beside code %u), scans %u, instructions decoded %u, patched %u, opaque bytes %u, overlaps %u\n",
                vm->set.name, k->copies, k->copies_max, k->dropped, k->evicted, k->writes_kept, k->scans,
                k->decoded, k->patched, k->opaque, k->overlaps);
        kprintf("vm %s: scan: fetch faults %u, window moves %u, patched instructions run %u, entries into "
                "unscanned code %u\n", vm->set.name, k->fetch_faults, k->window_moves, k->patch_traps, k->entry_traps);
    }
    kprintf("vm %s: pool: refills %u, pages given %u, returned %u, refills short %u, asked to shrink %u\n",
            vm->set.name, vm->pool_refills, vm->pool_given, vm->pool_returned, vm->pool_short, vm->shrinks_asked);
    kprintf("vm %s: ports: %u reads, %u writes", vm->set.name, vm->dev.port_reads, vm->dev.port_writes);
    if (vm->dev.ide.disk) kprintf("; disk: %u sectors read, %u written", vm->dev.ide.reads, vm->dev.ide.writes);
    kprintf("\n");
    kprintf("vm %s: device pages: reads %u, writes %u\n", vm->set.name, vm->dev.mmio_reads, vm->dev.mmio_writes);
    kprintf("vm %s: NMIs: %u in the guest, %u in the monitor, %u in the switch (%u on its own segment); the watchdog "
            "took the CPU back %u times\n", vm->set.name, c->nmi_guest, c->nmi_monitor, vm->td->nmi_in_switch,
            vm->td->nmi_on_switch_cs, c->watchdog_takes);
    if (vm->dev.lapic.nmis)
        kprintf("vm %s: virtual NMIs: %u received, %u delivered, %u lost (another waiting); the CPU taken back %u "
                "times for an armed NMI source\n", vm->set.name, vm->dev.lapic.nmis, c->nmis_delivered, vm->nmis_lost,
                c->nmi_takes);
}

/* The report for a guest the monitor stopped: why, and its registers. */
static void report_stop(struct vm *vm)
{
    const struct vm_shared *s = vm->shared;
    const struct guest_frame *r = &s->regs;
    kprintf("umbra: vm %s stopped: %s\n", vm->set.name, s->text);
    kprintf("  eip %08x cs %04x eflags %08x esp %08x ss %04x cpl %u\n", r->eip, r->cs, r->eflags, r->esp, r->ss, s->cpl);
    kprintf("  eax %08x ebx %08x ecx %08x edx %08x esi %08x edi %08x ebp %08x\n",
            r->eax, r->ebx, r->ecx, r->edx, r->esi, r->edi, r->ebp);
    kprintf("  ds %04x es %04x fs %04x gs %04x cr0 %08x cr2 %08x cr3 %08x cr4 %08x\n",
            r->ds, r->es, r->fs, r->gs, s->cr0, s->cr2, s->cr3, s->cr4);
}

#define VGA_TEXT 0xb8000u

/* screen=log: the rows of the guest's VGA text screen (80x25 at 0xb8000) that are not blank,
 * as the guest left them, characters only. */
static void print_screen(struct vm *vm)
{
    if (!vm->set.screen_log || vm->guest_pages * PAGE_SIZE < VGA_TEXT + 80 * 25 * 2) return;
    for (unsigned row = 0; row < 25; row++) {
        char line[81];
        unsigned len = 0;
        for (unsigned col = 0; col < 80; col++) {
            const uint8_t *cell = vm_gpa(vm, VGA_TEXT + (row * 80 + col) * 2);
            char c = (char)cell[0];
            line[col] = c >= 0x20 && c < 0x7f ? c : ' ';
            if (line[col] != ' ') len = col + 1;
        }
        line[len] = 0;
        if (len) kprintf("vm %s screen %2u: %s\n", vm->set.name, row, line);
    }
}

/* End a VM: counters, frames back to the host. */
static void vm_end(struct vm *vm, uint8_t status)
{
    vm->status = status;
    print_screen(vm);
    print_counters(vm);
    kprintf("umbra: vm %s ended with status %u\n", vm->set.name, status);
    vm_destroy(vm);
}

/* A VM that resets its machine ends: a reboot would load the same guest into the same state
 * again. As the last VM to end it has umbra reset the PC (onexit=qemu), so that QEMU with
 * -no-reboot ends as it does when the guest resets natively (exit code 0). */
static void vm_end_reset(struct vm *vm, const char *how)
{
    vm->reset = true;
    print_screen(vm);
    print_counters(vm);
    kprintf("umbra: vm %s reset its machine %s; it ends\n", vm->set.name, how);
    vm_destroy(vm);
}

/* Serve one request from the monitor. */
static void serve(struct vm *vm, const struct msg *m)
{
    struct msg a = { .type = MSG_RESUME };
    switch (m->type) {
    case MSG_IO:
        if (m->a[2]) {
            vmdev_out(vm, (uint16_t)m->a[0], m->a[1], m->a[3]);
            a.type = MSG_IO_DONE;
        } else {
            a.type = MSG_IO_DONE;
            a.a[0] = vmdev_in(vm, (uint16_t)m->a[0], m->a[1]);
        }
        answer(vm, &a);
        break;
    case MSG_MMIO:
        if (m->a[2]) {
            vmdev_mmio_write(vm, m->a[0], m->a[1], m->a[3]);
        } else {
            a.type = MSG_IO_DONE;
            a.a[0] = vmdev_mmio_read(vm, m->a[0], m->a[1]);
            answer(vm, &a);
            vm->mid_insn = true;
        }
        break;
    case MSG_HOST_IRQ: {
        struct trap_frame f;
        memset(&f, 0, sizeof f);
        f.vector = m->a[0];
        trap_dispatch(&f);
        break;
    }
    case MSG_HALT:
        vm->state = VM_HALTED;
        vm->halted_since = clock_ns();
        vm->halt_reported = false;
        break;
    case MSG_WANT_IRQ:
        /* The guest can take an interrupt now: acknowledge one, or say there is none. */
        if (vmdev_update(vm, clock_ns())) {
            a.type = MSG_INJECT;
            a.a[0] = vmdev_ack(vm);
            /* The monitor holds this vector from now on: run_once must not acknowledge a
             * second one before it has run (it keeps one, and would lose this one). */
            vm->shared->vector_held = 1;
        } else {
            vm->shared->irq_pending = 0;
            a.type = MSG_NO_IRQ;
        }
        answer(vm, &a);
        break;
    case MSG_PAGES_WANTED: {
        /* Never more than the pool has slots for: a monitor at its own limit is not short of
         * host memory, and asking others to shrink would not help it. */
        uint32_t want = m->a[0], room = MON_POOL_SLOTS - vm->pool_backed;
        if (want > room) want = room;
        uint32_t n = pool_budget(want), count = 0, first = n ? vm_pool_grow(vm, n, &count) : 0;
        vm->pool_refills++;
        vm->pool_given += count;
        /* Short of memory (or of the poolmem= budget): the other monitors are asked to drop
         * cold shadows and hand their pages back, and this one may ask again after they ran.
         * Even "none" is answered: with nobody to ask, the monitor stops the guest and says why. */
        bool asked = count < want && ask_others_to_shrink(vm, want - count < 32 ? want - count : 32);
        if (count < want) vm->pool_short++;
        a.type = MSG_PAGES; a.a[0] = first; a.a[1] = count; a.a[2] = asked;
        answer(vm, &a);
        break;
    }
    case MSG_RELOCATE:
        if (!vm_relocate(vm, m->a[0], m->a[1])) {
            kprintf("umbra: vm %s: no memory to move its monitor; stopping it\n", vm->set.name);
            vm_end(vm, UMBRA_EXIT_VM_STOPPED);
            break;
        }
        if (m->a[1]) kprintf("umbra: vm %s: the guest uses the monitor's range; monitor moved to %08x\n",
                             vm->set.name, m->a[0]);
        answer(vm, &a);
        break;
    case MSG_PAGES_BACK:
        for (uint32_t i = 0; i < m->a[0] && i < RING_ARGS - 1; i++) vm_pool_take(vm, m->a[1 + i]);
        break;
    case MSG_GUEST_STOP:
        report_stop(vm);
        /* A triple fault resets a PC; anything else umbra cannot go on with has no native end. */
        if (vm->shared->stop_reason == STOP_TRIPLE_FAULT) vm_end_reset(vm, "by a triple fault");
        else vm_end(vm, UMBRA_EXIT_VM_STOPPED);
        break;
    default:
        kprintf("umbra: vm %s: unexpected message %s from the monitor\n", vm->set.name, msg_name(m->type));
        break;
    }
}

/* The x87/SSE state belongs to one VM at a time; the host itself never uses it. Switching
 * happens only when a different VM runs, so one VM alone never pays for it. */
static struct vm *fpu_owner;
static uint8_t fpu_initial[512] __attribute__((aligned(16)));

static void fpu_switch(struct vm *vm)
{
    if (fpu_owner == vm || !cpu.fxsr) return;
    uint32_t cr0 = read_cr0(), cr4 = read_cr4();
    write_cr0(cr0 & ~(CR0_TS | CR0_EM));
    /* The CR4 a guest left has its OSFXSR, without which FXSAVE and FXRSTOR skip MXCSR and
     * the XMM registers. */
    if (!(cr4 & CR4_OSFXSR)) write_cr4(cr4 | CR4_OSFXSR);
    if (!fpu_initial[24]) {        /* MXCSR is never 0 once saved: make the power-on state once */
        __asm__ volatile("fninit; fxsave %0" : "=m"(fpu_initial));
    }
    if (fpu_owner && fpu_owner->state != VM_ENDED) __asm__ volatile("fxsave %0" : "=m"(fpu_owner->fpu));
    __asm__ volatile("fxrstor %0" :: "m"(*(vm->fpu_valid ? vm->fpu : fpu_initial)));
    vm->fpu_valid = true;
    if (!(cr4 & CR4_OSFXSR)) write_cr4(cr4);
    write_cr0(cr0);
    fpu_owner = vm;
}

/* Bytes typed on the host's COM1 go to the first VM still running. */
static void console_input(void)
{
    int c;
    for (unsigned i = 0; i < nvms; i++) {
        if (vms[i].state == VM_ENDED) continue;
        while (vuart_room(&vms[i].dev.uart) && (c = serial_getc(COM1_PORT)) >= 0)
            vmdev_console_input(&vms[i], (uint8_t)c);
        return;
    }
}

/* A VM halted this long without an interrupt in sight is probably waiting for nothing. */
#define HALT_REPORT_NS 5000000000ull

/* Say once why a VM has been halted so long: what its interrupt controller holds. */
static void report_long_halt(struct vm *vm, uint64_t now)
{
    const struct vpic_chip *m = &vm->dev.pic.chip[0], *s = &vm->dev.pic.chip[1];
    vm->halt_reported = true;
    kprintf("umbra: vm %s has been halted for %u s: 8259 IRR %02x/%02x ISR %02x/%02x IMR %02x/%02x; "
            "COM1 IER %02x with %u bytes waiting\n", vm->set.name, (unsigned)((now - vm->halted_since) / 1000000000u),
            m->irr, s->irr, m->isr, s->isr, m->imr, s->imr, vm->dev.uart.ier, vm->dev.uart.rx_count);
    kprintf("umbra: vm %s: LAPIC SVR %03x PPR %02x LVT timer %05x LINT0 %05x, deliverable vector %d\n",
            vm->set.name, vm->dev.lapic.svr, vlapic_ppr(&vm->dev.lapic), vm->dev.lapic.lvt[0], vm->dev.lapic.lvt[3],
            vlapic_pending(&vm->dev.lapic));
}

/* An NMI the local APIC received goes to the guest CPU's NMI latch: one waits at a time, and
 * one that finds another waiting is lost, as on the CPU (SDM Vol. 3A 6.7.1). */
static void nmi_to_cpu(struct vm *vm)
{
    struct vm_shared *s = vm->shared;
    if (vmdev_take_nmi(vm)) {
        if (s->nmi_pending) vm->nmis_lost++;
        s->nmi_pending = 1;
    }
    /* Whether a device may send one by itself changes only with a write to the local APIC or
     * the I/O APIC (an LVT entry, a redirection entry, the APIC's ID or logical destination). */
    if (vm->dev.mmio_writes != vm->nmi_armed_at) {
        vm->nmi_armed_at = vm->dev.mmio_writes;
        s->nmi_armed = vmdev_nmi_armed(vm);
    }
}

/* Can the guest take an NMI now: one waits, and none is being handled (blocking until IRET)? */
static bool nmi_deliverable(const struct vm *vm)
{
    return vm->shared->nmi_pending && !vm->shared->nmi_blocked;
}

/* Bring a VM's devices up to now; an interrupt the guest can take wakes a halted VM: a vector
 * with its IF set, or an NMI (it halts with IF clear only to wait for one). */
static void devices_update(struct vm *vm)
{
    uint64_t now = clock_ns();
    bool pending = vmdev_update(vm, now);
    vm->shared->irq_pending = pending;
    nmi_to_cpu(vm);
    bool wake = (pending && vm->shared->guest_if) || nmi_deliverable(vm);
    if (wake && vm->state == VM_HALTED) vm->state = VM_RUNNABLE;
    else if (vm->state == VM_HALTED && !vm->halt_reported && now - vm->halted_since > HALT_REPORT_NS)
        report_long_halt(vm, now);
}

/* The watchdog took the CPU back from a guest that kept IF clear (monitor/watchdog.c): take
 * the host's interrupts that waited, and let the other VMs run as long before it runs again. */
static void watchdog_taken(struct vm *vm)
{
    uint32_t n = vm->shared->count.watchdog_takes, t = vm->shared->count.nmi_takes;
    if (t != vm->nmi_takes_seen) {
        /* Taken back for a virtual NMI source: the host's interrupts, but no waiting turn. */
        vm->nmi_takes_seen = t;
        __asm__ volatile("sti; nop; cli");
    }
    if (n == vm->watchdog_seen) return;
    vm->watchdog_seen = n;
    __asm__ volatile("sti; nop; cli");
    vm->yield_until = clock_ns() + (uint64_t)config.watchdog_ms * 1000000u;
}

/* Run one VM until its monitor suspends, then serve its ring. */
static void run_once(struct vm *vm)
{
    struct msg m;
    fpu_switch(vm);
    devices_update(vm);
    if (vm->shared->irq_pending && vm->shared->guest_if && !vm->shared->vector_held && !vm->mid_insn &&
        !nmi_deliverable(vm) && !ring_full(&vm->ring->to_monitor)) {
        /* It will take it at once: acknowledge now and save the monitor a round trip. Not in
         * the middle of an instruction that reads a device register: it may write one next
         * (`orl $x, TPR`), so the vector is chosen when the monitor asks, after it. Nor when
         * an NMI goes first: its handler may run with IF clear, the vector still in the IRR. */
        struct msg inj = { .type = MSG_INJECT, .a = { vmdev_ack(vm) } };
        answer(vm, &inj);
        vm->shared->vector_held = 1;
        vm->shared->irq_pending = vmdev_pending(vm);
    }
    vm->mid_insn = false;
    world_enter(vm->tramp_cr3, vm->entry_linear, vm->trans_linear);
    watchdog_taken(vm);
    while (vm->state != VM_ENDED && ring_get(&vm->ring->to_host, &m)) serve(vm, &m);
    if (vm->state != VM_ENDED) flush_monitor_log(vm);
    if (vm->state != VM_ENDED && vm->dev.exited) vm_end(vm, vm->dev.exit_status);
    if (vm->state != VM_ENDED && vm->dev.reset) vm_end_reset(vm, vm->dev.reset);
}

/* stop-after=: a VM whose time is up ends, whatever it is doing. true if it just ended. */
static bool stop_when_due(struct vm *vm)
{
    if (vm->state == VM_ENDED || !vm->set.stop_after_ms || clock_ns() - vm->started < vm->set.stop_after_ms * 1000000ull)
        return false;
    kprintf("umbra: vm %s: stop-after=%u ms is up; it ends\n", vm->set.name, vm->set.stop_after_ms);
    vm_end(vm, UMBRA_EXIT_VM_STOPPED);
    return true;
}

int vms_run(void)
{
    int last = 0;
    unsigned next = 0;
    for (;;) {
        unsigned live = 0, runnable = 0;
        console_input();
        for (unsigned i = 0; i < nvms; i++) {
            if (stop_when_due(&vms[i])) last = vms[i].status;
            if (vms[i].state == VM_HALTED) devices_update(&vms[i]);
            live += vms[i].state != VM_ENDED;
            runnable += vms[i].state == VM_RUNNABLE;
        }
        if (!live) break;
        if (!runnable) {
            /* Everyone waits for an interrupt: so does the host. */
            __asm__ volatile("sti; hlt; cli");
            continue;
        }
        /* Round robin; one the watchdog took back waits its turn while others can run. */
        uint64_t now = clock_ns();
        struct vm *pick = 0;
        for (unsigned pass = 0; pass < 2 && !pick; pass++)
            for (unsigned k = 0; k < nvms && !pick; k++) {
                struct vm *vm = &vms[(next + k) % nvms];
                if (vm->state == VM_RUNNABLE && (pass || vm->yield_until <= now)) pick = vm;
            }
        next = (pick->id + 1) % nvms;
        run_once(pick);
        if (pick->state == VM_ENDED) last = pick->reset ? VM_END_RESET : pick->status;
    }
    return last;
}

/* The monitor's own state and helpers: one virtual CPU, its guest's view of the machine. */
#ifndef MONITOR_MON_H
#define MONITOR_MON_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"
#include "lib/ring.h"

/*
 * The monitor story. The guest runs at CPL3 with IOPL 0 on shadow page tables, so every
 * privileged instruction, every exception and every host interrupt enters the monitor
 * here, in the guest's address space, with the guest's registers in one guest_frame at
 * the top of the monitor stack. The monitor keeps the guest's virtual CPU (CPL, IF, control
 * registers, descriptor tables) in `vcpu`, and makes the real state follow it:
 *  - real CS and SS always have RPL 3; the guest sees its own selectors in every frame
 *    the monitor builds (virtual RPL = vcpu.cpl);
 *  - the real IF is the guest's IF (CLI/STI trap), so PUSHF tells the truth;
 *  - real IOPL is 0, so I/O and interrupt-flag instructions always trap;
 *  - the guest's user code descriptors are not present while the guest is in kernel mode,
 *    so an IRET to user mode traps too.
 * When the monitor needs the supervisor it suspends: it posts a request, records a
 * continuation, and switches worlds. Nothing on its C stack survives: on resume it starts
 * afresh below the guest frame, runs the continuation with the answer, and returns.
 */

struct vcpu {
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t cpl;                /* the guest's virtual CPL: 0 or 3 */
    uint32_t iopl;               /* the guest's virtual IOPL */
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint16_t ldtr, tr;
    uint32_t ldt_base, ldt_limit;
    uint32_t tr_base, tr_limit;
    bool tr_tss32;               /* TR holds a 32-bit TSS (it has an I/O permission bitmap) */
    uint32_t dr[8];
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip, pat;
    uint64_t xcr0;               /* the guest's XCR0 (XSETBV), real while it runs */
    uint32_t tsc_aux;            /* the guest's IA32_TSC_AUX (what RDTSCP gives in ECX), real while it runs */
    int32_t pending_vector;      /* an acknowledged virtual interrupt, -1 if none */
    bool irq_shadow;             /* the instruction at shadow_eip follows STI or an SS load and */
    uint32_t shadow_eip;         /* has not run yet: no interrupt may come before it */
    bool shadow_nmi;             /* that shadow is an SS load's: it holds NMIs back too */
    bool shadow_step;            /* the monitor set TF to get past that one instruction */
    bool guest_tf;               /* the guest's own TF while shadow_step is on */
    uint32_t trap_seq;           /* traps taken so far, of every vector but NMI */
    uint32_t delivered;          /* exceptions and interrupts delivered to the guest so far */
    bool nmi_blocked;            /* a virtual NMI was delivered and no IRET has run since */
    bool iret_faulted;           /* this trap is a native user IRET's fault (monitor/nmi.c) */
};

/* STI or an SS load just completed: the next instruction runs before any interrupt. */
void open_irq_shadow(const struct guest_frame *f);
/* MOV SS or POP SS just completed: the next instruction runs before any interrupt or NMI. */
void open_ss_shadow(const struct guest_frame *f);
/* Make the real CR0's FPU bits (MP, EM, TS, NE), the real CR4's TSD, OSFXSR, OSXMMEXCPT
 * and OSXSAVE, XCR0 and TSC_AUX the guest's. */
void fpu_sync_cr0(void);

/* RDMSR and RDPMC on the real CPU at the monitor's CPL0, for values the guest's CPU has as
 * well: the vector the instruction raised (#GP for an MSR the CPU lacks, #UD or #GP for a
 * counter), or -1 with the value in *v. */
enum { PROBE_RDMSR, PROBE_RDPMC };
int mon_rdmsr(uint32_t msr, uint64_t *v);
int mon_rdpmc(uint32_t counter, uint64_t *v);
/* XSETBV of XCR0 on the real CPU: the vector it raised (#GP for a value it refuses), or -1. */
int mon_xsetbv(uint64_t v);

extern struct vcpu vcpu;
#define shared ((struct vm_shared *)MON_OFF_SHARED)
#define ring   ((struct ring_page *)MON_OFF_RING)

/* A continuation: what to do with the supervisor's answer when the monitor is resumed. */
typedef void (*cont_fn)(struct guest_frame *f, const struct msg *answer, uint32_t ctx);

/* Post `req`, remember (fn, ctx), and switch to the host. Never returns: the monitor comes
 * back through monitor_resume, which calls fn with the answer. fn may be NULL. */
__attribute__((noreturn)) void suspend(const struct msg *req, cont_fn fn, uint32_t ctx);
/* Stop the guest for good with a reason and a message (formatted into the shared page). */
__attribute__((noreturn, format(printf, 2, 3))) void guest_stop(enum stop_reason why, const char *fmt, ...);
/* Ask the supervisor to log a line (it is sent with the next suspension). */
void mon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prepare the real EFLAGS and pending interrupts just before the guest runs again. */
void before_guest(struct guest_frame *f);

/* Entry points called from monitor/entry.asm. */
void monitor_trap(struct guest_frame *f);
void monitor_resume(struct guest_frame *f);

/* The guest's virtual EFLAGS as it would see them (IF and IOPL virtual). */
uint32_t guest_eflags(const struct guest_frame *f);
/* Write the guest's virtual EFLAGS into the real frame (IF follows, IOPL stays 0). */
void set_guest_eflags(struct guest_frame *f, uint32_t fl, uint32_t change_mask);


#endif

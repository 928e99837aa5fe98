/* A virtual machine as the supervisor keeps it: memory, its monitor, its devices, its state. */
#ifndef SUPERVISOR_VM_H
#define SUPERVISOR_VM_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/mmu.h"
#include "monitor/layout.h"
#include "supervisor/vmdev.h"

#define MAX_VMS 16

enum { SCAN_AUTO, SCAN_ON, SCAN_OFF };

/* A VM's settings, from its module string. */
struct vm_settings {
    char name[16];
    uint64_t mem;                  /* guest RAM in bytes */
    uint32_t pool_min, pool_max;   /* free-page watermarks of the monitor's pool */
    struct pt_settings pt;         /* pt=, pt.write=, pt.protect=, pt.prefault=, pt.roots= */
    bool screen_log;               /* screen=log: the VGA text screen goes to the log at the end */
    uint8_t scan;                  /* scan=: SCAN_AUTO (on where it can be), SCAN_ON, SCAN_OFF */
    char cmdline[256];             /* what the guest's Multiboot info says */
    char disk[128];                /* disk=: the boot module backing its IDE disk, or empty */
    uint32_t stop_after_ms;        /* stop-after=: it ends after this long; 0: never */
};

enum vm_state { VM_RUNNABLE, VM_HALTED, VM_ENDED };

struct vm {
    unsigned id;
    struct vm_settings set;
    enum vm_state state;
    uint8_t status;                /* exit status, once ended */
    bool reset;                    /* it ended by resetting its machine (no status) */
    uint32_t guest_pages;
    uint32_t region;               /* the monitor region's linear address */
    pae_entry_t *rpt[2];           /* the region's page tables (host view) */
    struct vm_shared *shared;
    struct ring_page *ring;
    struct transition_data *td;
    uint32_t tramp_cr3, entry_linear, trans_linear;
    uint32_t tramp_frames[6], ntramp;   /* the trampoline's own page-table frames */
    uint32_t trans_pfn, from_host_off, transition_off;
    uint32_t pool_backed;          /* pool slots backed now */
    uint32_t pool_refills, pool_given, pool_returned, pool_short, shrinks_asked;
    uint64_t halted_since;         /* clock_ns when it last halted */
    uint64_t started;              /* clock_ns when it was made */
    uint32_t watchdog_seen;        /* the monitor's watchdog_takes when last looked at */
    uint64_t yield_until;          /* taken back by the watchdog: others first until then */
    uint32_t nmis_lost;            /* NMIs that found another one waiting for the guest's CPU */
    uint32_t nmi_armed_at;         /* dev.mmio_writes when shared->nmi_armed was last worked out */
    uint32_t nmi_takes_seen;       /* the monitor's nmi_takes when last looked at */
    bool halt_reported;
    bool mid_insn;                 /* its monitor waits for a device read in mid-instruction */
    struct vmdev dev;
    bool fpu_valid;                /* fpu holds this VM's x87/SSE state */
    uint8_t fpu[512] __attribute__((aligned(16)));
};

extern struct vm vms[MAX_VMS];
extern unsigned nvms;

/* Build a VM: memory, monitor image, region, trampoline. false (and nothing kept) on failure,
 * with the reason in why. */
bool vm_create(struct vm *vm, unsigned id, const struct vm_settings *set, char *why, unsigned whylen);
/* A pointer to guest-physical address gpa (must be RAM), valid to the end of its page. */
void *vm_gpa(struct vm *vm, uint32_t gpa);
/* Give every frame of the VM back; the VM is ended. */
void vm_destroy(struct vm *vm);
/* Back pool slots with fresh frames: up to n, in the first run of unbacked slots. Returns
 * the first slot and sets *count (0 when the host has no memory, or the pool no slot, to give). */
uint32_t vm_pool_grow(struct vm *vm, uint32_t n, uint32_t *count);
/* The monitor moves to region base `to`: phase 0 maps the transition page there as well,
 * phase 1 makes `to` the only one. false when the host has no memory for the tables. */
bool vm_relocate(struct vm *vm, uint32_t to, unsigned phase);
/* Take pool slot back from the monitor and free its frame. */
void vm_pool_take(struct vm *vm, uint32_t slot);

#endif

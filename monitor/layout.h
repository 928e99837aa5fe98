/* The monitor region and everything the supervisor and a monitor share: one header, both sides. */
#ifndef MONITOR_LAYOUT_H
#define MONITOR_LAYOUT_H
#include <stdint.h>
#include "arch/x86/desc.h"
#include "lib/ring.h"

/*
 * The monitor region is MON_REGION_SIZE bytes of the VM's linear address space, at
 * `region` (MON_REGION_DEFAULT unless the guest needs that range). The monitor is linked
 * at 0 and runs on segments whose base is `region`, so every offset below is both a
 * monitor pointer and (plus region) a linear address. Its pages are mapped by the two
 * region page tables, which every shadow root links in at the same directory slots,
 * supervisor-only: the guest runs at CPL3 and any access it makes here faults.
 *
 *   0x000000  monitor image: header, code, transition page, data, bss (GDT, IDT, TSS, stack)
 *   0x100000  the two region page tables, mapped onto themselves
 *   0x102000  the shared page (struct vm_shared)
 *   0x103000  the message ring (struct ring_page)
 *   0x104000  windows: slots the monitor points at any frame of its VM
 *   0x110000  the guest frame table: host frame number of each guest-physical page
 *   0x200000  the pool: slots the supervisor backs with frames on request
 */
#define MON_REGION_DEFAULT 0xffc00000u
#define MON_REGION_SIZE    0x400000u
#define MON_IMAGE_MAX      0x100000u
#define MON_OFF_PT         0x100000u
#define MON_OFF_SHARED     0x102000u
#define MON_OFF_RING       0x103000u
#define MON_OFF_WINDOWS    0x104000u
#define MON_WINDOWS        12u
#define MON_OFF_GFT        0x110000u
#define MON_GFT_MAX        ((0x200000u - MON_OFF_GFT) / 4)
#define MON_OFF_POOL       0x200000u
/* A guest frame table word: the host frame, and above it bits the shadow engine keeps. */
#define GFT_FRAME          0x000fffffu
#define GFT_HINT_SHIFT     20            /* a leaf shadow page (slot + 1) mapping it, 0 none */
#define GFT_HINT           (0x3ffu << GFT_HINT_SHIFT)
#define GFT_MANY           (1u << 30)    /* other leaf shadow pages may map it too */
#define GFT_TABLE          (1u << 31)    /* a shadowed guest table: protected */
#define MON_POOL_SLOTS     512u
/* The code window (scan-before-execute): the 4 MiB just below the region, kernel view only. */
#define CODE_WINDOW_SIZE   0x400000u

/* The real GDT: guest descriptors keep their own indices; the monitor's sit at the top. */
#define GDT_ENTRIES        8192u
#define MON_SEL_CS         SEL(8191, 0)
#define MON_SEL_DS         SEL(8190, 0)
#define MON_SEL_FLAT       SEL(8189, 0)   /* base 0: guest linear memory, explicitly */
#define MON_SEL_TSS        SEL(8188, 0)
#define MON_STALE_FIRST    8182u          /* 8182-8187: stale descriptors, one per segment register */
#define MON_SEL_LDT        SEL(8181, 0)   /* the shadow of the guest's LDT */
#define SWITCH_SEL_CS      SEL(8180, 0)   /* flat ring-0 code: the world switch's own segment,
                                             the same in the host's, the monitor's and the
                                             transition page's GDT (transition.asm) */
#define GUEST_GDT_MAX      8180u          /* guest descriptors must have lower indices */
#define MON_LDT_ENTRIES    1024u          /* guest LDT entries shadowed; the rest are not present */

#define MON_MAGIC 0x4e4f4d55u            /* "UMON" */

/* At offset 0 of the monitor image: where the supervisor finds what it must set up. */
struct monitor_header {
    uint32_t magic;
    uint32_t file_size;        /* bytes in the image file */
    uint32_t mem_size;         /* bytes with the bss, page-rounded */
    uint32_t transition_off;   /* the transition page (page-aligned) */
    uint32_t gdt_off, idt_off, tss_off;
    uint32_t frame_off;        /* the guest trap frame, at the top of the monitor stack */
    uint32_t entry_off;        /* monitor_entry_from_host: where every resume lands */
    uint32_t from_host_off;    /* trans_from_host, inside the transition page */
};

/*
 * The transition page is mapped at the same linear address (region + transition_off) in
 * the monitor's address space and in a per-VM trampoline copy of the host's. Its code
 * switches CR3 while running from it, then far-jumps into the other side's code segment.
 * Its data, at TRANS_DATA_OFF, is written by the supervisor (host side of the switch)
 * and by the monitor (its current CR3).
 */
#define TRANS_DATA_OFF 0xe00u
#define TRANS_NMI_OFF  0x000u            /* the NMI stub of the switch */
#define TRANS_IDT_OFF  0xe80u            /* the switch's IDT: gates 0-2, only the NMI present */
#define TRANS_GDT_OFF  0xea0u            /* the switch's GDT: only the SWITCH_SEL_CS entry */
#define TRANS_STACK_TOP 0x1000u          /* the switch's stack: the end of the page */
struct __attribute__((packed)) far_ptr { uint32_t offset; uint16_t sel; uint16_t pad; };
struct __attribute__((packed)) transition_data {
    uint32_t tramp_cr3;            /* host: the trampoline page tables */
    uint32_t mon_cr3;              /* monitor: the shadow root to come back to */
    struct far_ptr host_resume;    /* host: where a suspension lands (HOST_CS) */
    struct far_ptr mon_entry;      /* host: MON_SEL_CS:offset of the monitor's resume path */
    struct desc_ptr host_gdtr;     uint16_t pad0;
    struct desc_ptr mon_gdtr;      uint16_t pad1;   /* base = region + gdt_off */
    struct desc_ptr mon_idtr;      uint16_t pad2;
    uint32_t region;               /* the monitor region's linear address */
    uint32_t nmi_in_switch;        /* NMIs the switch's stub took (counted, nothing else) */
    struct desc_ptr switch_idtr;   uint16_t pad3;   /* the switch's IDT and GDT: see */
    struct desc_ptr switch_gdtr;   uint16_t pad4;   /* trans_tables_fill */
    uint32_t nmi_on_switch_cs;     /* of those, the ones that struck code running on SWITCH_SEL_CS */
};
/* Offsets into transition_data, for the assembly on both sides. */
#define TD_TRAMP_CR3   0
#define TD_MON_CR3     4
#define TD_HOST_RESUME 8
#define TD_MON_ENTRY   16
#define TD_HOST_GDTR   24
#define TD_MON_GDTR    32
#define TD_MON_IDTR    40
#define TD_REGION      48
#define TD_NMI_SWITCH  52
#define TD_SWITCH_IDTR 56
#define TD_SWITCH_GDTR 64
#define TD_NMI_SWITCH_CS 72

/* The switch's own IDT and GDT, inside the transition page at `linear` (page points at it in
 * the caller's own address space): an NMI gate to the stub at TRANS_NMI_OFF through
 * SWITCH_SEL_CS, and a GDT whose base is placed so that SWITCH_SEL_CS's entry, and only it,
 * lies inside the page. Written when the page gets a linear address (start, relocation). */
static inline void trans_tables_fill(void *page, uint32_t linear)
{
    uint8_t *p = page;
    struct transition_data *td = (struct transition_data *)(p + TRANS_DATA_OFF);
    struct gate_desc *idt = (struct gate_desc *)(p + TRANS_IDT_OFF);
    idt[0] = idt[1] = (struct gate_desc){ 0, 0 };
    idt[2] = gate_make(SWITCH_SEL_CS, linear + TRANS_NMI_OFF, DESC_TYPE_INTGATE32, 0);
    *(struct seg_desc *)(p + TRANS_GDT_OFF) =
        desc_make(0, 0xffffffff, DESC_P | DESC_S | DESC_TYPE_CODE_R | DESC_TYPE_ACCESSED, DESC_FLAG_DB);
    td->switch_idtr = (struct desc_ptr){ 3 * 8 - 1, linear + TRANS_IDT_OFF };
    td->switch_gdtr = (struct desc_ptr){ (uint16_t)(SEL_INDEX(SWITCH_SEL_CS) * 8 + 7),
                                         linear + TRANS_GDT_OFF - SEL_INDEX(SWITCH_SEL_CS) * 8 };
}

/* The guest's registers as the monitor's trap entry saved them (top of the monitor stack). */
struct guest_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags, esp, ss;
};

/* How the monitor virtualizes the guest's page tables (the pt.* settings). */
enum pt_engine { PT_SHADOW, PT_VTLB };          /* pt=shadow (the lazy engine) | pt=vtlb (baseline) */
enum pt_write { PT_WRITE_EMULATE, PT_WRITE_STEP };  /* pt.write=emulate | singlestep */
enum pt_protect { PT_PROTECT_RO, PT_PROTECT_US };   /* pt.protect=ro | us */
#define PT_PREFAULT_MAX 32u
#define PT_ROOTS_MAX    64u
struct pt_settings {
    uint8_t engine, write, protect, prefault, roots;
};

/* Why a guest was stopped by the monitor. */
enum stop_reason {
    STOP_NONE,
    STOP_TRIPLE_FAULT,     /* an exception while delivering a double fault */
    STOP_UNSUPPORTED,      /* the guest did something umbra cannot represent yet */
    STOP_MONITOR_FAULT,    /* the monitor itself faulted: a bug, reported */
    STOP_BAD_STATE,        /* the guest's state cannot be represented (e.g. real mode) */
};

/* Traps by cause and emulated instructions by kind: printed when the VM ends. */
enum emu_kind {
    EMU_CLI, EMU_STI, EMU_HLT, EMU_IN, EMU_OUT, EMU_INS, EMU_OUTS, EMU_MOV_CR, EMU_MOV_DR,
    EMU_LGDT, EMU_LIDT, EMU_LLDT, EMU_LTR, EMU_SGDT, EMU_SIDT, EMU_SLDT, EMU_STR, EMU_SMSW,
    EMU_LMSW, EMU_CLTS, EMU_INVLPG, EMU_RDMSR, EMU_WRMSR, EMU_WBINVD, EMU_INT, EMU_IRET,
    EMU_RETF, EMU_LOAD_SS, EMU_SYSENTER, EMU_SYSEXIT, EMU_POPF, EMU_PUSHF, EMU_SEGREAD, EMU_SEGCHECK,
    EMU_RDTSC, EMU_RDPMC, EMU_TASK, EMU_CALL_GATE,
    EMU_KINDS
};

struct vm_counters {
    uint32_t traps[49];            /* by vector: 0-31 exceptions, 32-47 host interrupts, 48: INT n */
    uint32_t emulated[EMU_KINDS];
    uint32_t reflected[32];        /* exceptions delivered to the guest, by vector */
    uint32_t interrupts_injected;
    uint32_t nmi_guest, nmi_monitor;   /* NMIs that interrupted the guest, the monitor */
    uint32_t watchdog_takes;       /* times the watchdog took the CPU back (IF clear too long) */
    uint32_t nmi_takes;            /* times it took the CPU back for an armed virtual NMI source */
    uint32_t nmis_delivered;       /* virtual NMIs delivered to the guest (vector 2) */
    uint32_t shadow_fills, shadow_flushes, guest_page_faults;
    uint32_t suspensions;
    struct pt_counters {           /* the shadow engine (pt=shadow) */
        uint32_t roots_built, roots_reused, roots_dropped;
        uint32_t writes_emulated, writes_stepped, reads_emulated;
        uint32_t unshadowed, prefaulted, zaps, shrinks;
        uint32_t pages_now, pages_max, tables_max;
        uint32_t stlb_hits, stlb_misses;
    } pt;
    struct scan_counters {         /* scan-before-execute (monitor/code.c) */
        uint32_t copies, copies_now, copies_max, dropped, evicted, writes_kept;
        uint32_t scans, decoded, patched, opaque, overlaps;
        uint32_t fetch_faults, window_moves, patch_traps, entry_traps;
    } scan;
};

/* The shared page: set-up by the supervisor, state and reports from the monitor. */
struct vm_shared {
    /* Set by the supervisor before the first entry. */
    uint32_t region;
    uint32_t guest_pages;          /* guest RAM, in pages from guest-physical 0 */
    uint64_t region_pde[2];        /* PAE directory entries for the two region page tables */
    uint32_t region_pt_frame[2];   /* their host frame numbers */
    uint32_t ones_frame;           /* a page of all ones, for guest-physical holes */
    uint32_t entry_eip, entry_eax, entry_ebx;
    uint32_t pool_min, pool_max;
    uint32_t pool_initial;         /* pool slots 0..pool_initial-1 are backed at start;
                                      slots 0-4 hold the first shadow root (PDPT, 4 PDs) */
    struct pt_settings pt;
    uint32_t watchdog_nmis;        /* NMIs with the guest's IF clear before it is taken back; 0: off */
    uint32_t scan;                 /* scan-before-execute on (scan=, and the CPU has NX) */
    /* Kept current by the monitor. */
    volatile uint32_t guest_if;    /* the guest's virtual IF, and no interrupt shadow at its EIP */
    volatile uint32_t irq_pending; /* set by the supervisor: a virtual interrupt waits */
    volatile uint32_t vector_held; /* the monitor holds an acknowledged vector not yet delivered */
    /* The guest CPU's virtual NMI: the supervisor sets nmi_pending (one NMI waits; the monitor
     * clears it as it delivers) and nmi_armed (a device could send one by itself); the
     * monitor keeps nmi_blocked (from an NMI's delivery to the next IRET the guest runs). */
    volatile uint32_t nmi_pending, nmi_armed, nmi_blocked;
    uint32_t stop_reason;
    struct guest_frame regs;       /* the guest's registers when it stopped */
    uint32_t cr0, cr2, cr3, cr4, cpl;
    struct vm_counters count;
    char text[256];                /* the stop reason, NUL-terminated */
    uint32_t log_len;              /* monitor log lines waiting for the supervisor */
    char log[1024];
};
_Static_assert(sizeof(struct vm_shared) <= 4096, "the shared page must fit one page");

#endif

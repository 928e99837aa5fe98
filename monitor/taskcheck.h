/* The rules of a 32-bit hardware task switch (SDM Vol. 3 7.3, 7.4), as functions of
 * descriptors and TSS images only: which fault each check raises, in the SDM's order, and how
 * the cause of the switch decides busy bits, NT and the back link. No guest memory, no monitor
 * state: monitor/task.c applies them, tests/unit/test_taskcheck.c checks them on the host. */
#ifndef MONITOR_TASKCHECK_H
#define MONITOR_TASKCHECK_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/desc.h"

/* What started the switch (SDM Table 7-2). */
enum task_cause { TASK_JMP, TASK_CALL, TASK_IRET, TASK_EVENT /* exception, interrupt, INT n */ };

/* A fault a check raises: vector (TASK_OK for none, TASK_TSS16 for a 16-bit TSS that passed
 * every check, which umbra does not switch to) and error code. */
#define TASK_OK    (-1)
#define TASK_TSS16 (-2)
struct task_fault { int vector; uint32_t error; };

/* The 32-bit TSS: offsets of the fields a switch reads and writes. */
#define TSS_LINK   0x00u
#define TSS_CR3    0x1cu
#define TSS_EIP    0x20u
#define TSS_EFLAGS 0x24u
#define TSS_EAX    0x28u      /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes each */
#define TSS_ES     0x48u      /* ES CS SS DS FS GS, 2 bytes each with 2 reserved */
#define TSS_LDT    0x60u
#define TSS_TRAP   0x64u      /* bit 0: the T flag (a #DB when a switch reaches this task) */
#define TSS_MIN_LIMIT 0x67u   /* a 32-bit TSS's limit must be at least this */
#define TSS_DYNAMIC_LEN (TSS_LDT - TSS_EIP)   /* EIP..GS: what a switch saves */

/* The state a switch saves into the old TSS: segment selectors as the task sees them, in
 * encoding order (ES CS SS DS FS GS), general registers EAX..EDI. */
struct task_state { uint32_t eip, eflags, gpr[8]; uint16_t sel[6]; };

/* Write st into img, the TSS_DYNAMIC_LEN bytes of a 32-bit TSS from TSS_EIP: each selector
 * fills the low half of its field, the reserved half stays as it was. */
void task_save_image(uint8_t img[TSS_DYNAMIC_LEN], const struct task_state *st);
/* Read the state a 32-bit TSS image (at least TSS_MIN_LIMIT + 1 bytes) holds. */
void task_load_image(const uint8_t *tss, struct task_state *st);

/* EFLAGS saved in the old TSS: an IRET's image has NT clear. */
uint32_t task_old_eflags(uint32_t eflags, enum task_cause c);
/* EFLAGS the new task starts with: CALL and events set NT (its TSS's back link is valid). */
uint32_t task_new_eflags(uint32_t eflags, enum task_cause c);
/* JMP and IRET leave the old task not busy; CALL and events leave it busy (nested). */
static inline bool task_clears_old_busy(enum task_cause c) { return c == TASK_JMP || c == TASK_IRET; }
/* JMP, CALL and events mark the new task busy; IRET returns to one already busy. */
static inline bool task_sets_new_busy(enum task_cause c) { return c != TASK_IRET; }
/* CALL and events write the old TSS's selector into the new TSS's back link. */
static inline bool task_links(enum task_cause c) { return c == TASK_CALL || c == TASK_EVENT; }

/* JMP or CALL far through a TSS descriptor or a task gate d named by sel, at privilege cpl:
 * its DPL must be at least the CPL and the selector's RPL (#GP(sel)); a task gate must be
 * present (#NP(sel)). TASK_OK when the switch may go on to the TSS (the TSS descriptor itself,
 * or the one the gate names). */
struct task_fault task_check_far(uint16_t sel, struct seg_desc d, unsigned cpl);
/* The new TSS's descriptor d, named by sel (in_gdt: sel has TI clear and lies within the
 * GDT's limit, d read from there): for JMP, CALL and events an available TSS, for IRET a busy
 * one; present; a limit of at least TSS_MIN_LIMIT. Faults as the SDM's JMP, CALL, INT and
 * IRET name them: a bad selector or type is #GP (#TS for IRET), not present #NP, a short limit
 * #TS, all with sel's index (ext: the EXT bit of an event's error codes). */
struct task_fault task_check_tss(enum task_cause c, uint16_t sel, bool in_gdt, struct seg_desc d, uint32_t ext);
/* The new task's LDT selector ldt (in_gdt: TI clear and within the GDT's limit, d read from
 * there): null, or a present LDT descriptor; else #TS(ldt). */
struct task_fault task_check_ldt(uint16_t ldt, bool in_gdt, struct seg_desc d);

/* Read the descriptor of sel from the new task's GDT and LDT (false: null, or past its table). */
typedef bool (*task_lookup)(void *ctx, uint16_t sel, struct seg_desc *d);
/* The new task's segment selectors sel (ES CS SS DS FS GS), checked in the order of SDM
 * Table 7-1 once its LDT is loaded: CS's DPL against its RPL, SS valid, present (#SS) and of
 * the new CPL, CS valid and present (#NP), SS's DPL against its RPL, then DS, ES, FS and GS,
 * each valid, readable, present (#NP) and not more privileged than the CPL and its RPL. The
 * first fault (TASK_OK when all pass), and in *loaded how many registers of task_load_order
 * were loaded before it: CS and SS together once all their checks pass, then one at a time. */
struct task_fault task_check_segs(const uint16_t sel[6], task_lookup look, void *ctx, unsigned *loaded);
/* The order in which the new task's segment registers are loaded (encoding numbers: CS SS DS
 * ES FS GS). */
extern const uint8_t task_load_order[6];

#endif

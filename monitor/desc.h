/* The guest's descriptor tables and their shadows in the real GDT. */
#ifndef MONITOR_DESC_H
#define MONITOR_DESC_H
#include <stdbool.h>
#include <stdint.h>
#include "arch/x86/desc.h"

/* The flat segments a Multiboot kernel is entered with. */
#define GUEST_BOOT_CS SEL(1, 0)
#define GUEST_BOOT_DS SEL(2, 0)
/* ESP at entry: Multiboot leaves it undefined; low RAM below the Multiboot info is what a
 * kernel that pushes before setting its own stack (GNU Mach does) can safely use. */
#define GUEST_BOOT_ESP 0x7c00u

/* Entry state: flat code and data at the Multiboot selectors. */
void desc_init(void);
struct guest_frame;
/* LGDT: the guest's table moved; shadow it afresh. */
void desc_load_gdt(struct guest_frame *f, uint32_t base, uint32_t limit);
/* Copy the guest's GDT into the real one again (descriptors may have changed in memory).
 * A segment register whose descriptor changes keeps the old one, as the CPU's descriptor
 * cache would, through its stale slot until the guest loads it again. */
void desc_sync(struct guest_frame *f);
/* LLDT: sel names an LDT descriptor in the guest's GDT (or is null). false after delivering
 * the #GP or #NP the guest's CPU would raise. */
bool desc_load_ldt(struct guest_frame *f, uint16_t sel);
/* Point the real GDT's LDT descriptor at the shadow LDT in the region at base; load LDTR. */
void desc_ldt_install(uint32_t base);
/* SYSENTER and SYSEXIT load CS and SS with fixed flat descriptors (DPL dpl), whatever the GDT
 * holds at their selectors: where the guest's entry at sel is not that descriptor, register r
 * (1 CS or 2 SS, in encoding order; already sel with RPL 3) keeps the fixed one through its stale slot, as
 * the CPU's descriptor cache would. Call after the CPL change. */
void desc_fixed_flat(struct guest_frame *f, unsigned r, uint16_t sel, unsigned dpl);
/* A task switch gives every segment register its new selector before it checks and loads
 * the descriptors (SDM 7.3 steps 12-13): register r (encoding order) holds sel with no
 * descriptor of its own yet, until the switch loads it (or, if a check fails first, until
 * the guest loads it). A null data selector is simply loaded; any other keeps a flat writable
 * data descriptor through its stale slot (MOV from it shows sel), as QEMU's registers keep a
 * zero descriptor cache (which its TCG does not check: flat) in the same state. */
void desc_unloaded(struct guest_frame *f, unsigned r, uint16_t sel);
/* The selector the guest believes a segment register holds (stale slots map back). */
uint32_t desc_guest_sel(uint32_t real);
/* The guest's view of a real code selector that was in CS at some point: its own selector,
 * RPL 3 for its user code, 0 for its kernel's (which runs with RPL 3 in the real CS). */
uint32_t desc_guest_code_sel(uint32_t real);
/* The guest CPL changed: its user code descriptors are present only in user mode; code and
 * data shadows carry the guest's DPL in user mode and DPL 3 in kernel mode (data registers
 * that still hold an inner level's descriptor keep it through their stale slots). */
void desc_mode_changed(void);
/* Is sel one of the guest's user code descriptors, hidden while the guest is in kernel mode
 * (and in user mode too while desc_hide_user_code says so)? */
bool desc_is_hidden_user_code(uint16_t sel);
/* Hide the guest's user code descriptors in user mode as well (hide), or show them there
 * again: every IRET, far RET, JMP and CALL to user code then faults (#NP) in user mode too. */
void desc_hide_user_code(bool hide);
/* The monitor's IRET back to the guest reloads every segment register from the real tables:
 * a register of f that names hidden user code (the CS of user code running while it is
 * hidden) moves to its stale slot, holding a present copy, until the guest loads it again. */
void desc_keep_loadable(struct guest_frame *f);
/* Read the guest's own descriptor for sel; false (with *d zero) past the table or for null/LDT. */
bool guest_desc(uint16_t sel, struct seg_desc *d);
/* The same for a selector the guest names itself (an operand, not a segment register's
 * real selector): only its own tables, never a stale slot. */
bool guest_desc_own(uint16_t sel, struct seg_desc *d);
/* The real (shadow) descriptor a real selector names. */
struct seg_desc desc_shadow_of(uint16_t sel);
/* The base of the segment a real selector names (the shadow's base is the guest's). */
uint32_t seg_base(uint16_t sel);
/* Scan-before-execute: the guest kernel's code segments get base + bias in the real tables
 * (their fetches land in the code window); every other segment keeps the guest's base. */
void desc_set_code_bias(uint32_t bias);
/* Is d a code segment descriptor? a writable data one? */
static inline bool desc_is_code(struct seg_desc d) { return (desc_access(d) & (DESC_S | DESC_TYPE_CODE)) == (DESC_S | DESC_TYPE_CODE); }
static inline bool desc_is_wdata(struct seg_desc d) { return (desc_access(d) & (DESC_S | DESC_TYPE_CODE | DESC_TYPE_DATA_RW)) == (DESC_S | DESC_TYPE_DATA_RW); }

#endif

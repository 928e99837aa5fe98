/* Scan-before-execute: the copies of guest kernel code pages and the code window. */
#ifndef MONITOR_CODE_H
#define MONITOR_CODE_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

/* First entry (after the descriptors and paging): on when the VM's settings ask for it. */
void code_init(void);
/* Is scan-before-execute on? */
bool code_on(void);
/* Bytes of linear address space reserved below the monitor region (the window), 0 when off. */
uint32_t code_reserved(void);
/* An instruction fetch of the guest kernel faulted at real linear address va: map the copy
 * there (scanning what is new), move the window, or deliver the guest's own #PF. */
void code_fetch_fault(struct guest_frame *f, uint32_t va);
/* The guest kernel hit an INT3 (EIP past it): true when it was one of the copy's (a
 * sensitive instruction, performed now, or code not scanned yet, scanned now). */
bool code_breakpoint(struct guest_frame *f);
/* The monitor region moved: the window moves with it. */
void code_region_moved(void);
/* The guest's IOPL went from 0 to not 0 or back: PUSHF is patched exactly while it is not 0
 * (the real IOPL is always 0), so the copies are made again. */
void code_iopl_changed(void);
/* Out of pool pages: drop every copy; returns how many. */
unsigned code_shrink(void);

#endif

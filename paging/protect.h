/* Guest page tables are protected while they are shadowed; a reverse map finds the shadow
 * entries that still grant the guest access to a frame when it becomes a table. */
#ifndef PAGING_PROTECT_H
#define PAGING_PROTECT_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

/* Forget every table record; protection is by the mode (PT_PROTECT_RO or PT_PROTECT_US). */
void prot_reset(unsigned mode);
/* The protection mode in force. */
unsigned prot_mode(void);
/* Is guest frame gfn a shadowed (so protected) table? */
bool prot_is_table(uint32_t gfn);
/* One more shadow page shadows gfn (code: it is a code copy, not a table); the first one
 * protects it: every shadow entry that grants the guest more than the mode allows is cut
 * down, and the real TLB goes stale. */
void prot_table_add(uint32_t gfn, bool code);
/* One shadow page fewer shadows gfn; with none left it is an ordinary page again. */
void prot_table_del(uint32_t gfn, bool code);
/* Is gfn protected for code copies only (read-only in either mode, never hidden)? */
bool prot_only_code(uint32_t gfn);
/* The leaf shadow page `slot` now holds an entry that grants the guest access to gfn
 * (writable in ro mode, any access in us mode): remember it for a later protection. */
void prot_note_map(uint32_t gfn, int slot);
/* A guest write to table gfn: returns how many writes it has had since it was last used. */
unsigned prot_count_write(uint32_t gfn);
/* A shadow fill walked through table gfn: it is in use. */
void prot_used(uint32_t gfn);
/* Protected frames now. */
unsigned prot_count(void);

#endif

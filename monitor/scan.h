/* Scan-before-execute: decode a page of guest kernel code and build the copy the guest runs. */
#ifndef MONITOR_SCAN_H
#define MONITOR_SCAN_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/emu/decode.h"

#define SCAN_PAGE 4096u
#define SCAN_FILL 0xccu          /* INT3: every byte of a copy that is not decoded yet */
#define SCAN_NEXT 16u            /* bytes of the following page an instruction may reach */

/* A copy and what is known of it: the bytes the CPU executes, and which offsets are the starts
 * of instructions the scanner decoded (one bit per byte). */
struct scan_page {
    uint8_t *copy;
    uint8_t *start;              /* SCAN_PAGE / 8 bytes */
    uint8_t *covered;            /* SCAN_PAGE / 8 bytes: every byte of a decoded instruction */
};

/* What one scan did. */
struct scan_result {
    unsigned decoded;            /* instructions decoded */
    unsigned patched;            /* of those, sensitive ones left as INT3 */
    unsigned opaque;             /* bytes copied as they are after an instruction the decoder
                                    does not know (the CPU raises #UD on most of them) */
    unsigned tail;               /* bytes of the next page taken by an instruction that starts
                                    in this one: the next page's copy must hold them as they are */
    unsigned tail_at;            /* where that instruction starts */
    unsigned overlaps;           /* instructions decoded over bytes of others (see scan.c) */
};

/* Patch PUSHF too: set while the guest's IOPL is not 0 (the real one always is). */
extern bool scan_pushf;
/* Is this instruction one that must trap in the guest kernel but would not at CPL3 (POPF, far
 * CALL and JMP, IRET, far RET, MOV/POP/LSS to SS, MOV from or PUSH CS/SS, SLDT STR VERR VERW,
 * SGDT SIDT SMSW, LAR LSL, FNSTENV FNSAVE; PUSHF while the guest's IOPL is not 0)? */
bool scan_sensitive(const struct emu_insn *in);
/* Decode orig (one page) from offset entry, following the control flow inside the page, into
 * p: decoded instructions are copied, sensitive ones patched to INT3; everything else stays
 * INT3, so that reaching it by any path traps and scans it then. next: the first SCAN_NEXT bytes
 * of the page that follows (NULL when it is not mapped: an instruction that runs into it is
 * left as INT3, not decoded, and its start bit stays clear). code32: the code segment's D bit. */
void scan_page(struct scan_page *p, const uint8_t *orig, const uint8_t *next, unsigned entry, bool code32,
               struct scan_result *r);

/* Is offset off of p an instruction start the scanner left as INT3 (patched), where orig has
 * something else? */
bool scan_patched(const struct scan_page *p, const uint8_t *orig, unsigned off);

#endif

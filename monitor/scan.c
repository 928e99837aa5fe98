/* Scan-before-execute: the scanner.
 *
 * The story. The guest kernel runs at CPL3, where a few instructions do not trap but quietly
 * act differently: POPF leaves IF alone, MOV and PUSH from CS or SS show RPL 3, LAR, LSL,
 * VERR and VERW check the real (shadow) descriptors, SGDT, SIDT, SLDT, STR and SMSW read the
 * real tables. So guest kernel code is never executed from the guest's own page: it runs from
 * a copy, built here, in which every byte starts as INT3. Decoding starts where the guest
 * entered the page and follows the control flow; each decoded instruction is copied as it is,
 * except a sensitive one, whose first byte stays INT3 so that it traps and the monitor
 * performs it. Whatever was not decoded (data between functions, a target reached only by an
 * indirect jump) is still INT3, so arriving there traps too, and the monitor scans from that
 * point. A wrong guess can therefore cost a trap, never a missed instruction. The copy is
 * only ever fetched: the guest's reads of its code see its own page (monitor/code.c).
 * Overlapping instructions (a decode that starts inside another one, or covers another's
 * start) never un-patch anything: a patched INT3 stays, and an instruction whose bytes hold
 * one, or that holds a new one, is made to trap at its own start too; the monitor then
 * performs it with the emulator, or stops the guest saying why.
 */
#include "monitor/scan.h"
#include "lib/string.h"

bool scan_pushf;

bool scan_sensitive(const struct emu_insn *in)
{
    switch (in->cls) {
    case K_POPF: case K_CALLF: case K_JMPF: case K_IRET: case K_RETF: return true;
    /* Loads of SS: one with RPL 0 faults at CPL3 anyway, one with RPL 3 (a #GP in the guest
     * kernel) would pass the real CPU's check. */
    case K_MOV_SREG: return in->reg == SEG_SS;
    case K_POP_SREG: case K_LSEG: return in->sub == SEG_SS;
    case K_PUSHF: return scan_pushf;
    case K_MOV_FROM_SREG: return in->reg == SEG_CS || in->reg == SEG_SS;
    case K_PUSH_SREG: return in->sub == SEG_CS || in->sub == SEG_SS;
    case K_GRP6: return in->reg == 0 || in->reg == 1 || in->reg == 4 || in->reg == 5;
    case K_GRP7: return ((in->reg == 0 || in->reg == 1) && in->mem) || in->reg == 4;
    case K_LAR: case K_LSL: return true;
    /* FNSTENV and FNSAVE store the last x87 instruction's CS: the real one has RPL 3. */
    case K_FPU_ENV: return true;
    default: return false;
    }
}

/* Where control goes after an instruction. */
enum flow { FLOW_NEXT, FLOW_BRANCH, FLOW_JUMP, FLOW_STOP };

/* The flow of in; *rel its relative target (FLOW_BRANCH: and the next instruction, FLOW_JUMP:
 * only the target). Calls go on at the next instruction: that is where they return. */
static enum flow flow_of(const struct emu_insn *in, int32_t *rel)
{
    uint16_t op = in->opcode;
    *rel = in->opsize == 2 ? (int32_t)(int16_t)in->imm : (int32_t)in->imm;
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op == 0xeb) {
        *rel = (int32_t)(int8_t)in->imm;
        return op == 0xeb ? FLOW_JUMP : FLOW_BRANCH;
    }
    if (op >= 0x0f80 && op <= 0x0f8f) return FLOW_BRANCH;
    switch (op) {
    case 0xe8: return FLOW_BRANCH;
    case 0xe9: return FLOW_JUMP;
    case 0xc2: case 0xc3: case 0xca: case 0xcb: case 0xcf: case 0xea: case 0x0f0b:
        return FLOW_STOP;
    case 0xff: return in->reg == 4 || in->reg == 5 ? FLOW_STOP : FLOW_NEXT;
    default: return FLOW_NEXT;
    }
}

static bool bit(const uint8_t *m, unsigned i) { return m[i / 8] & (1u << (i % 8)); }
static void set_bit(uint8_t *m, unsigned i) { m[i / 8] |= (uint8_t)(1u << (i % 8)); }

bool scan_patched(const struct scan_page *p, const uint8_t *orig, unsigned off)
{
    return bit(p->start, off) && p->copy[off] == SCAN_FILL && orig[off] != SCAN_FILL;
}

/* The instruction start before off whose bytes reach off (off is inside it), or -1. */
static int covering_start(const struct scan_page *p, const uint8_t *orig, unsigned off, bool code32)
{
    for (unsigned s = off; s-- > 0 && off - s < 15;) {
        if (!bit(p->start, s)) continue;
        struct emu_insn in;
        unsigned have = SCAN_PAGE - s < 15 ? SCAN_PAGE - s : 15;
        if (emu_decode(orig + s, have, code32, &in) != EMU_OK || s + in.len > off) return (int)s;
    }
    return -1;
}

/* Copy the instruction at off (len bytes, here of them in this page) into the copy; false
 * when it overlaps decoded bytes in a way that needs it to trap at its start. */
static bool place(struct scan_page *p, const uint8_t *orig, unsigned off, unsigned here, bool sensitive,
                  bool code32, struct scan_result *r)
{
    bool overlap = false, trap = sensitive;
    for (unsigned b = off; b < off + here; b++) overlap |= bit(p->covered, b);
    if (!overlap) {
        memcpy(p->copy + off, orig + off, here);
    } else {
        r->overlaps++;
        for (unsigned b = off; b < off + here; b++) {
            if (scan_patched(p, orig, b)) { trap |= b != off; continue; }     /* never un-patch */
            p->copy[b] = orig[b];
        }
        /* Patching a start inside another instruction: that one must trap as well. */
        int s = bit(p->covered, off) && trap ? covering_start(p, orig, off, code32) : -1;
        if (s >= 0) p->copy[s] = SCAN_FILL;
    }
    for (unsigned b = off; b < off + here; b++) set_bit(p->covered, b);
    return !trap;
}

#define WORK 64u

void scan_page(struct scan_page *p, const uint8_t *orig, const uint8_t *next, unsigned entry, bool code32,
               struct scan_result *r)
{
    unsigned work[WORK], n = 0;
    memset(r, 0, sizeof *r);
    if (entry < SCAN_PAGE) work[n++] = entry;
    while (n) {
        unsigned off = work[--n];
        while (off < SCAN_PAGE && !bit(p->start, off)) {
            /* Up to 15 bytes from here, running into the next page when it is there. */
            uint8_t b[15];
            unsigned have = SCAN_PAGE - off < 15 ? SCAN_PAGE - off : 15;
            memcpy(b, orig + off, have);
            if (have < 15 && next) { memcpy(b + have, next, 15 - have); have = 15; }
            struct emu_insn in;
            enum emu_status st = emu_decode(b, have, code32, &in);
            if (st == EMU_NEED_MORE) {
                /* It runs into a page that is not mapped: it stays INT3 and undecoded, so that
                 * running it traps and the monitor delivers the guest's fetch fault. */
                break;
            }
            if (st != EMU_OK) {
                /* Not an instruction this decoder knows: leave the bytes as they are (most such
                 * encodings raise #UD); where the next instruction starts is not known. */
                unsigned k = SCAN_PAGE - off < 15 ? SCAN_PAGE - off : 15;
                if (!place(p, orig, off, k, false, code32, r)) p->copy[off] = SCAN_FILL;
                set_bit(p->start, off);
                r->opaque += k;
                break;
            }
            unsigned len = in.len, here = SCAN_PAGE - off < len ? SCAN_PAGE - off : len;
            bool sensitive = scan_sensitive(&in);
            bool native = place(p, orig, off, here, sensitive, code32, r);
            set_bit(p->start, off);
            r->decoded++;
            if (!native) p->copy[off] = SCAN_FILL;
            if (sensitive) r->patched++;
            if (off + len > SCAN_PAGE) { r->tail = off + len - SCAN_PAGE; r->tail_at = off; break; }
            int32_t rel;
            enum flow fl = flow_of(&in, &rel);
            if (fl == FLOW_STOP) break;
            if (fl == FLOW_BRANCH || fl == FLOW_JUMP) {
                int64_t t = (int64_t)off + len + rel;
                if (t >= 0 && t < (int64_t)SCAN_PAGE && n < WORK) work[n++] = (unsigned)t;
                if (fl == FLOW_JUMP) break;
            }
            off += len;
        }
    }
}

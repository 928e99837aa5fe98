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
 */
#include "monitor/scan.h"
#include "lib/string.h"

bool scan_pushf;

bool scan_sensitive(const struct emu_insn *in)
{
    switch (in->cls) {
    case K_POPF: case K_CALLF: return true;
    case K_PUSHF: return scan_pushf;
    case K_MOV_FROM_SREG: return in->reg == SEG_CS || in->reg == SEG_SS;
    case K_PUSH_SREG: return in->sub == SEG_CS || in->sub == SEG_SS;
    case K_GRP6: return in->reg == 0 || in->reg == 1 || in->reg == 4 || in->reg == 5;
    case K_GRP7: return ((in->reg == 0 || in->reg == 1) && in->mem) || in->reg == 4;
    case K_LAR: case K_LSL: return true;
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
                /* It runs into a page that is not mapped: its fetch faults there, as natively. */
                memcpy(p->copy + off, orig + off, SCAN_PAGE - off);
                set_bit(p->start, off);
                break;
            }
            if (st != EMU_OK) {
                /* Not an instruction this decoder knows: leave the bytes as they are (most such
                 * encodings raise #UD); where the next instruction starts is not known. */
                unsigned k = SCAN_PAGE - off < 15 ? SCAN_PAGE - off : 15;
                memcpy(p->copy + off, orig + off, k);
                set_bit(p->start, off);
                r->opaque += k;
                break;
            }
            unsigned len = in.len, here = SCAN_PAGE - off < len ? SCAN_PAGE - off : len;
            memcpy(p->copy + off, orig + off, here);
            set_bit(p->start, off);
            r->decoded++;
            if (scan_sensitive(&in)) { p->copy[off] = SCAN_FILL; r->patched++; }
            if (off + len > SCAN_PAGE) { r->tail = off + len - SCAN_PAGE; break; }
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

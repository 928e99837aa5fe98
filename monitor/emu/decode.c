/* The x86 instruction decoder: prefixes, opcode maps, ModRM/SIB, displacement, immediates,
 * for 32- and 16-bit code. It decodes the length of any instruction of the base opcode maps
 * (the monitor must know where an instruction ends even when it does not emulate it) and
 * classifies the ones the monitor and the emulator act on. Decode only: nothing changes. */
#include "monitor/emu/decode.h"
#include "lib/string.h"

/* What follows an opcode. */
#define F_MODRM 0x01
#define F_I8    0x02
#define F_I16   0x04
#define F_IV    0x08     /* immediate of the operand size */
#define F_MOFFS 0x10     /* an offset of the address size */
#define F_FAR   0x20     /* a far pointer: offset of the operand size, then a selector */
#define F_GRP3  0x40     /* F6/F7: TEST (reg 0 or 1) takes an immediate */
#define F_BAD   0x80     /* undefined here */

/* Operand bytes of a one-byte opcode. */
static unsigned map1(uint8_t op)
{
    if (op < 0x40) {
        switch (op & 7) {
        case 0: case 1: case 2: case 3: return F_MODRM;
        case 4: return F_I8;
        case 5: return F_IV;
        default: return 0;           /* push/pop seg, prefixes, DAA... */
        }
    }
    if (op < 0x60) return 0;         /* INC/DEC/PUSH/POP reg */
    switch (op) {
    case 0x62: case 0x63: return F_MODRM;
    case 0x68: return F_IV;
    case 0x69: return F_MODRM | F_IV;
    case 0x6a: return F_I8;
    case 0x6b: return F_MODRM | F_I8;
    case 0x80: case 0x82: case 0x83: return F_MODRM | F_I8;
    case 0x81: return F_MODRM | F_IV;
    case 0x9a: case 0xea: return F_FAR;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: return F_MOFFS;
    case 0xa8: return F_I8;
    case 0xa9: return F_IV;
    case 0xc0: case 0xc1: case 0xc6: return F_MODRM | F_I8;
    case 0xc7: return F_MODRM | F_IV;
    case 0xc2: case 0xca: return F_I16;
    case 0xc4: case 0xc5: return F_MODRM;
    case 0xc8: return F_I16 | F_I8;
    case 0xcd: case 0xd4: case 0xd5: case 0xeb: return F_I8;
    case 0xe8: case 0xe9: return F_IV;
    case 0xf6: case 0xf7: return F_MODRM | F_GRP3;
    case 0xfe: case 0xff: return F_MODRM;
    }
    if (op >= 0x70 && op <= 0x7f) return F_I8;
    if (op >= 0x84 && op <= 0x8f) return F_MODRM;
    if (op >= 0xb0 && op <= 0xb7) return F_I8;
    if (op >= 0xb8 && op <= 0xbf) return F_IV;
    if (op >= 0xd0 && op <= 0xd3) return F_MODRM;
    if (op >= 0xd8 && op <= 0xdf) return F_MODRM;
    if (op >= 0xe0 && op <= 0xe7) return F_I8;
    return 0;
}

/* Operand bytes of a two-byte opcode (0x0f, op). */
static unsigned map2(uint8_t op)
{
    switch (op) {
    case 0x04: case 0x0a: case 0x0c: case 0x24: case 0x25: case 0x26: case 0x27: case 0x36:
    case 0x39: case 0x3b: case 0x3c: case 0x3d: case 0x3e: case 0x3f: case 0xff:
        return F_BAD;
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b: case 0x0e: case 0x30: case 0x31:
    case 0x32: case 0x33: case 0x34: case 0x35: case 0x37: case 0x77: case 0xa0: case 0xa1:
    case 0xa2: case 0xa8: case 0xa9: case 0xaa:
        return 0;
    case 0x70: case 0x71: case 0x72: case 0x73: case 0xa4: case 0xac: case 0xba: case 0xc2:
    case 0xc4: case 0xc5: case 0xc6:
        return F_MODRM | F_I8;
    }
    if (op >= 0x80 && op <= 0x8f) return F_IV;          /* Jcc rel */
    if (op >= 0xc8 && op <= 0xcf) return 0;             /* BSWAP */
    return F_MODRM;
}

/* Little-endian read of n bytes. */
static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* ModRM (and SIB, displacement) at p: sets the memory operand; bytes used, or 0 if short. */
static unsigned modrm(const uint8_t *p, unsigned n, struct emu_insn *in)
{
    if (n < 1) return 0;
    unsigned used = 1;
    in->has_modrm = true;
    in->mod = p[0] >> 6; in->reg = (p[0] >> 3) & 7; in->rm = p[0] & 7;
    in->mem = in->mod != 3;
    in->base = in->index = R_NONE;
    in->scale = 0;
    in->disp = 0;
    if (!in->mem) return used;
    in->ea_seg = SEG_DS;
    if (in->addrsize == 2) {
        /* 16-bit forms: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (or disp16), BX. */
        static const int8_t b16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const int8_t i16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_NONE, R_NONE, R_NONE, R_NONE };
        in->base = b16[in->rm];
        in->index = i16[in->rm];
        if (in->rm == 2 || in->rm == 3 || (in->rm == 6 && in->mod != 0)) in->ea_seg = SEG_SS;
        unsigned dn = in->mod == 1 ? 1 : in->mod == 2 ? 2 : (in->rm == 6 ? 2 : 0);
        if (in->mod == 0 && in->rm == 6) in->base = R_NONE;
        if (n < used + dn) return 0;
        in->disp = dn == 1 ? (uint32_t)(int32_t)(int8_t)p[used] : le(p + used, dn);
        return used + dn;
    }
    unsigned base = in->rm;
    if (in->rm == 4) {
        if (n < 2) return 0;
        uint8_t sib = p[1];
        used++;
        in->scale = sib >> 6;
        if (((sib >> 3) & 7) != 4) in->index = (int8_t)((sib >> 3) & 7);
        base = sib & 7;
    }
    unsigned dn = in->mod == 1 ? 1 : in->mod == 2 ? 4 : 0;
    if (in->mod == 0 && base == 5) {
        dn = 4;                              /* disp32, no base */
    } else {
        in->base = (int8_t)base;
        if (base == R_ESP || base == R_EBP) in->ea_seg = SEG_SS;
    }
    if (n < used + dn) return 0;
    in->disp = dn == 1 ? (uint32_t)(int32_t)(int8_t)p[used] : le(p + used, dn);
    return used + dn;
}

/* The class of a one-byte opcode (after ModRM is known). */
static void classify1(uint8_t op, struct emu_insn *in)
{
    unsigned v = in->opsize;
    in->size = (op & 1) ? v : 1;
    if (op < 0x40 && (op & 7) < 4) {
        in->cls = K_ALU; in->sub = op >> 3; in->reg_is_dest = op & 2;
        return;
    }
    if (op >= 0xb0 && op <= 0xbf) {
        /* MOV reg, imm: the register is in the opcode (the emulator's r/m register operand). */
        in->cls = K_MOV; in->rm = op & 7; in->size = op >= 0xb8 ? v : 1;
        return;
    }
    switch (op) {
    case 0x06: case 0x0e: case 0x16: case 0x1e: in->cls = K_PUSH_SREG; in->sub = op >> 3; return;
    case 0x07: case 0x17: case 0x1f: in->cls = K_POP_SREG; in->sub = op >> 3; return;
    case 0x80: case 0x81: case 0x82: case 0x83: in->cls = K_ALU; in->sub = in->reg; return;
    case 0x84: case 0x85: in->cls = K_TEST; return;
    case 0x86: case 0x87: in->cls = K_XCHG; return;
    case 0x88: case 0x89: case 0x8a: case 0x8b: in->cls = K_MOV; in->reg_is_dest = op & 2; return;
    case 0x8c: in->cls = K_MOV_FROM_SREG; in->size = 2; return;
    case 0x8e: in->cls = K_MOV_SREG; in->size = 2; return;
    case 0x8f: if (in->reg == 0) in->cls = K_POP; in->size = v; return;
    case 0x9a: in->cls = K_CALLF; return;
    case 0x9c: in->cls = K_PUSHF; return;
    case 0x9d: in->cls = K_POPF; return;
    case 0xa0: case 0xa1: in->cls = K_MOV; in->reg_is_dest = true; in->reg = R_EAX; return;
    case 0xa2: case 0xa3: in->cls = K_MOV; in->reg_is_dest = false; in->reg = R_EAX; return;
    case 0xa4: case 0xa5: in->cls = K_MOVS; return;
    case 0xaa: case 0xab: in->cls = K_STOS; return;
    case 0xac: case 0xad: in->cls = K_LODS; return;
    case 0xc4: in->cls = K_LSEG; in->sub = SEG_ES; return;
    case 0xc5: in->cls = K_LSEG; in->sub = SEG_DS; return;
    case 0xc6: case 0xc7: if (in->reg == 0) { in->cls = K_MOV; in->reg_is_dest = false; } return;
    case 0xca: case 0xcb: in->cls = K_RETF; return;
    case 0xcc: in->cls = K_INT3; return;
    case 0xcd: in->cls = K_INT; return;
    case 0xce: in->cls = K_INTO; return;
    case 0xcf: in->cls = K_IRET; return;
    case 0xd9: case 0xdd: if (in->reg == 6 && in->mem) in->cls = K_FPU_ENV; return;
    case 0xe4: case 0xe5: case 0xec: case 0xed: in->cls = K_IN; return;
    case 0xe6: case 0xe7: case 0xee: case 0xef: in->cls = K_OUT; return;
    case 0x6c: case 0x6d: in->cls = K_INS; return;
    case 0x6e: case 0x6f: in->cls = K_OUTS; return;
    case 0xea: in->cls = K_JMPF; return;
    case 0xf4: in->cls = K_HLT; return;
    case 0xfa: in->cls = K_CLI; return;
    case 0xfb: in->cls = K_STI; return;
    case 0xf6: case 0xf7:
        if (in->reg <= 1) in->cls = K_TEST;
        else if (in->reg == 2) in->cls = K_NOT;
        else if (in->reg == 3) in->cls = K_NEG;
        return;
    case 0xfe: case 0xff:
        if (in->reg <= 1) { in->cls = K_INCDEC; in->sub = in->reg; }
        else if (op == 0xff && in->reg == 3) in->cls = K_CALLF;
        else if (op == 0xff && in->reg == 5) in->cls = K_JMPF;
        else if (op == 0xff && in->reg == 6) { in->cls = K_PUSH; in->size = v; }
        return;
    }
}

/* The class of a two-byte opcode. */
static void classify2(uint8_t op, struct emu_insn *in)
{
    unsigned v = in->opsize;
    in->size = v;
    switch (op) {
    case 0x00: in->cls = K_GRP6; in->sub = in->reg; in->size = 2; return;
    case 0x01: in->cls = K_GRP7; in->sub = in->reg; return;
    case 0x02: in->cls = K_LAR; return;
    case 0x03: in->cls = K_LSL; return;
    case 0x06: in->cls = K_CLTS; return;
    case 0x08: in->cls = K_INVD; return;
    case 0x09: in->cls = K_WBINVD; return;
    case 0x0b: in->cls = K_UD2; return;
    case 0x20: in->cls = K_MOV_FROM_CR; return;
    case 0x21: in->cls = K_MOV_FROM_DR; return;
    case 0x22: in->cls = K_MOV_TO_CR; return;
    case 0x23: in->cls = K_MOV_TO_DR; return;
    case 0x30: in->cls = K_WRMSR; return;
    case 0x31: in->cls = K_RDTSC; return;
    case 0x32: in->cls = K_RDMSR; return;
    case 0x33: in->cls = K_RDPMC; return;
    case 0x34: in->cls = K_SYSENTER; return;
    case 0x35: in->cls = K_SYSEXIT; return;
    case 0xa0: case 0xa8: in->cls = K_PUSH_SREG; in->sub = op == 0xa0 ? SEG_FS : SEG_GS; return;
    case 0xa1: case 0xa9: in->cls = K_POP_SREG; in->sub = op == 0xa1 ? SEG_FS : SEG_GS; return;
    case 0xa2: in->cls = K_CPUID; return;
    case 0xa3: in->cls = K_BT; in->sub = BT_BT; return;
    case 0xab: in->cls = K_BT; in->sub = BT_BTS; return;
    case 0xb3: in->cls = K_BT; in->sub = BT_BTR; return;
    case 0xbb: in->cls = K_BT; in->sub = BT_BTC; return;
    case 0xba: if (in->reg >= 4) { in->cls = K_BT; in->sub = (uint8_t)(in->reg - 4); } return;
    case 0xb0: case 0xb1: in->cls = K_CMPXCHG; in->size = op & 1 ? v : 1; return;
    case 0xb2: in->cls = K_LSEG; in->sub = SEG_SS; return;
    case 0xb4: in->cls = K_LSEG; in->sub = SEG_FS; return;
    case 0xb5: in->cls = K_LSEG; in->sub = SEG_GS; return;
    case 0xb6: case 0xb7: in->cls = K_MOVZX; in->size = op & 1 ? 2 : 1; in->reg_is_dest = true; return;
    case 0xbe: case 0xbf: in->cls = K_MOVSX; in->size = op & 1 ? 2 : 1; in->reg_is_dest = true; return;
    case 0xc0: case 0xc1: in->cls = K_XADD; in->size = op & 1 ? v : 1; return;
    case 0xc7: if (in->reg == 1 && in->mem) { in->cls = K_CMPXCHG8B; in->size = 8; } return;
    }
}

/* A VEX-encoded instruction (AVX) starting at b[i]: its length, class K_OTHER. The opcode map
 * is 0F for C5 and the map field of C4 (0F, 0F38, 0F3A); every opcode has a ModRM but
 * VZEROUPPER/VZEROALL, and an imm8 follows in map 0F3A and for the map-0F opcodes that have
 * one in their legacy form. */
static enum emu_status decode_vex(const uint8_t *b, unsigned n, unsigned i, struct emu_insn *in)
{
    unsigned map = 1;
    if (b[i] == 0xc4) {
        if (i + 2 >= n) return EMU_NEED_MORE;
        map = b[i + 1] & 0x1f;
        if (map < 1 || map > 3) return EMU_BAD;
        i += 3;
    } else {
        i += 2;
    }
    if (i >= n) return i >= 15 ? EMU_TOO_LONG : EMU_NEED_MORE;
    uint8_t op = b[i++];
    in->opcode = (uint16_t)(map << 8 | op);
    in->cls = K_OTHER;
    if (!(map == 1 && op == 0x77)) {
        unsigned used = modrm(b + i, n - i, in);
        if (!used) return n >= 15 ? EMU_TOO_LONG : EMU_NEED_MORE;
        i += used;
    }
    bool imm8 = map == 3 || (map == 1 && ((op >= 0x70 && op <= 0x73) || op == 0xc2 || op == 0xc4 ||
                                          op == 0xc5 || op == 0xc6));
    if (imm8) {
        if (i >= 15) return EMU_TOO_LONG;
        if (i >= n) return EMU_NEED_MORE;
        in->has_imm = true;
        in->imm = b[i++];
    }
    if (i > 15) return EMU_TOO_LONG;
    in->len = (uint8_t)i;
    if (in->seg != SEG_NONE) in->ea_seg = in->seg;
    return EMU_OK;
}

enum emu_status emu_decode(const uint8_t *b, unsigned n, bool code32, struct emu_insn *in)
{
    unsigned i = 0;
    memset(in, 0, sizeof *in);
    in->seg = SEG_NONE;
    in->ea_seg = SEG_DS;
    in->base = in->index = R_NONE;
    bool opsz = false, adsz = false;
    for (;; i++) {
        if (i >= 15) return EMU_TOO_LONG;
        if (i >= n) return EMU_NEED_MORE;
        switch (b[i]) {
        case 0x66: opsz = true; continue;
        case 0x67: adsz = true; continue;
        case 0xf0: in->lock = true; continue;
        case 0xf2: in->repne = true; continue;
        case 0xf3: in->rep = true; continue;
        case 0x26: in->seg = SEG_ES; continue;
        case 0x2e: in->seg = SEG_CS; continue;
        case 0x36: in->seg = SEG_SS; continue;
        case 0x3e: in->seg = SEG_DS; continue;
        case 0x64: in->seg = SEG_FS; continue;
        case 0x65: in->seg = SEG_GS; continue;
        }
        break;
    }
    in->opsize = (code32 != opsz) ? 4 : 2;
    in->addrsize = (code32 != adsz) ? 4 : 2;
    if (b[i] == 0xc4 || b[i] == 0xc5) {
        /* LES/LDS take a memory operand: with mod 11 in the next byte they are VEX prefixes. */
        if (i + 1 >= n) return EMU_NEED_MORE;
        if ((b[i + 1] & 0xc0) == 0xc0) return decode_vex(b, n, i, in);
    }
    unsigned flags;
    bool two = b[i] == 0x0f;
    if (two) {
        if (++i >= n) return EMU_NEED_MORE;
        in->opcode = (uint16_t)(0x0f00 | b[i]);
        if (b[i] == 0x38 || b[i] == 0x3a) {
            /* Three-byte maps: ModRM always, 0x3a an imm8 as well. */
            flags = F_MODRM | (b[i] == 0x3a ? F_I8 : 0);
            if (++i >= n) return EMU_NEED_MORE;
        } else {
            flags = map2(b[i]);
        }
    } else {
        in->opcode = b[i];
        flags = map1(b[i]);
    }
    if (flags & F_BAD) return EMU_BAD;
    i++;
    if (flags & F_MODRM) {
        /* MOV to/from CR/DR always names registers, whatever the mod bits say: no SIB and no
         * displacement follow the ModRM byte. */
        bool regs_only = in->opcode >= 0x0f20 && in->opcode <= 0x0f23;
        unsigned used = regs_only ? modrm((const uint8_t[]){ (uint8_t)((i < n ? b[i] : 0) | 0xc0) }, i < n, in) : modrm(b + i, n - i, in);
        if (!used) return n >= 15 ? EMU_TOO_LONG : EMU_NEED_MORE;
        i += used;
    }
    unsigned imm = 0;
    if (flags & F_I8) imm += 1;
    if (flags & F_I16) imm += 2;
    if (flags & F_IV) imm += in->opsize;
    if (flags & F_MOFFS) imm += in->addrsize;
    if ((flags & F_GRP3) && in->reg <= 1) imm += (in->opcode & 1) ? in->opsize : 1;
    if (flags & F_FAR) imm += in->opsize + 2;
    if (i + imm > 15) return EMU_TOO_LONG;
    if (i + imm > n) return EMU_NEED_MORE;
    if (imm) {
        in->has_imm = true;
        if (flags & F_FAR) {
            in->imm = le(b + i, in->opsize);
            in->imm2 = le(b + i + in->opsize, 2);
        } else if (flags & F_MOFFS) {
            in->has_imm = false;          /* an address, not an operand: MOV moffs, eAX stores eAX */
            in->mem = true;
            in->disp = le(b + i, in->addrsize);
        } else if ((flags & (F_I16 | F_I8)) == (F_I16 | F_I8)) {
            in->imm = le(b + i, 2);
            in->imm2 = b[i + 2];
        } else if (imm == 1 && (in->opcode == 0x83 || in->opcode == 0x6b || in->opcode == 0x6a)) {
            in->imm = (uint32_t)(int32_t)(int8_t)b[i];      /* sign-extended imm8 */
        } else {
            in->imm = le(b + i, imm);
        }
        i += imm;
    }
    in->len = (uint8_t)i;
    if (in->seg != SEG_NONE) in->ea_seg = in->seg;
    if (two) classify2((uint8_t)in->opcode, in); else classify1((uint8_t)in->opcode, in);
    return EMU_OK;
}

uint32_t emu_ea(const struct emu_insn *in, const uint32_t gpr[8])
{
    uint32_t ea = in->disp;
    if (in->base != R_NONE) ea += gpr[in->base];
    if (in->index != R_NONE) ea += gpr[in->index] << in->scale;
    return in->addrsize == 2 ? ea & 0xffff : ea;
}

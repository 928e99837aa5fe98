/* Decoding the one guest instruction that trapped: prefixes, opcode, ModRM/SIB, immediate. */
#include "monitor/insn.h"

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

/* The guest's general register number r (EAX..EDI order). */
static uint32_t gpr(const struct guest_frame *f, unsigned r)
{
    switch (r & 7) {
    case 0: return f->eax; case 1: return f->ecx; case 2: return f->edx; case 3: return f->ebx;
    case 4: return f->esp; case 5: return f->ebp; case 6: return f->esi; default: return f->edi;
    }
}

/* ModRM (32-bit addressing) at p: fills mod/reg/rm and the effective address; returns bytes used, 0 if cut short. */
static uint32_t modrm32(const uint8_t *p, uint32_t n, const struct guest_frame *f, struct insn *in)
{
    if (n < 1) return 0;
    uint32_t used = 1;
    in->has_modrm = true;
    in->mod = p[0] >> 6; in->reg = (p[0] >> 3) & 7; in->rm = p[0] & 7;
    in->mem = in->mod != 3;
    if (!in->mem) return used;
    uint32_t ea = 0;
    int seg = SEG_DS;
    unsigned base = in->rm;
    if (in->rm == 4) {                       /* SIB */
        if (n < 2) return 0;
        uint8_t sib = p[1];
        used++;
        unsigned scale = sib >> 6, index = (sib >> 3) & 7;
        base = sib & 7;
        if (index != 4) ea += gpr(f, index) << scale;
        if (base == 5 && in->mod == 0) {
            if (n < used + 4) return 0;
            ea += (uint32_t)p[used] | (uint32_t)p[used + 1] << 8 | (uint32_t)p[used + 2] << 16 | (uint32_t)p[used + 3] << 24;
            used += 4;
            base = 8;
        }
    } else if (in->rm == 5 && in->mod == 0) {
        if (n < 5) return 0;
        ea = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
        in->ea = ea; in->ea_seg = SEG_DS;
        return 5;
    }
    if (base < 8) {
        ea += gpr(f, base);
        if (base == 4 || base == 5) seg = SEG_SS;
    }
    if (in->mod == 1) {
        if (n < used + 1) return 0;
        ea += (uint32_t)(int32_t)(int8_t)p[used];
        used += 1;
    } else if (in->mod == 2) {
        if (n < used + 4) return 0;
        ea += (uint32_t)p[used] | (uint32_t)p[used + 1] << 8 | (uint32_t)p[used + 2] << 16 | (uint32_t)p[used + 3] << 24;
        used += 4;
    }
    in->ea = ea;
    in->ea_seg = seg;
    return used;
}

bool insn_decode(const uint8_t *b, uint32_t n, const struct guest_frame *f, struct insn *in)
{
    uint32_t i = 0;
    *in = (struct insn){ .op = OP_OTHER, .seg = -1, .ea_seg = SEG_DS };
    for (; i < n && i < 14; i++) {
        switch (b[i]) {
        case 0x66: in->op16 = true; continue;
        case 0x67: in->addr16 = true; continue;
        case 0xf3: case 0xf2: in->rep = true; continue;
        case 0xf0: in->lock = true; continue;
        case 0x26: in->seg = SEG_ES; continue;
        case 0x2e: in->seg = SEG_CS; continue;
        case 0x36: in->seg = SEG_SS; continue;
        case 0x3e: in->seg = SEG_DS; continue;
        case 0x64: in->seg = SEG_FS; continue;
        case 0x65: in->seg = SEG_GS; continue;
        }
        break;
    }
    if (i >= n) return false;
    uint8_t op = b[i++];
    uint32_t used;
    unsigned wsize = in->op16 ? 2 : 4;
    switch (op) {
    case 0xfa: in->op = OP_CLI; break;
    case 0xfb: in->op = OP_STI; break;
    case 0xf4: in->op = OP_HLT; break;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
        if (i >= n) return false;
        in->op = op < 0xe6 ? OP_IN : OP_OUT;
        in->imm = b[i++];
        in->size = (op & 1) ? wsize : 1;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:
        in->op = op < 0xee ? OP_IN : OP_OUT;
        in->imm = f->edx & 0xffff;
        in->size = (op & 1) ? wsize : 1;
        break;
    case 0x6c: case 0x6d: in->op = OP_INS; in->size = (op & 1) ? wsize : 1; break;
    case 0x6e: case 0x6f: in->op = OP_OUTS; in->size = (op & 1) ? wsize : 1; break;
    case 0xcd: if (i >= n) return false; in->op = OP_INT; in->imm = b[i++]; break;
    case 0xcf: in->op = OP_IRET; break;
    case 0xcb: in->op = OP_RETF; break;
    case 0xca:
        if (i + 2 > n) return false;
        in->op = OP_RETF; in->imm = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8; i += 2;
        break;
    case 0x17: in->op = OP_POP_SS; break;
    case 0x8e:
        if (in->addr16 || !(used = modrm32(b + i, n - i, f, in))) return false;
        i += used; in->op = OP_MOV_SREG;
        break;
    case 0x0f: {
        if (i >= n) return false;
        uint8_t op2 = b[i++];
        switch (op2) {
        case 0x00: case 0x01: case 0xb2:
            if (in->addr16 || !(used = modrm32(b + i, n - i, f, in))) return false;
            i += used;
            in->op = op2 == 0x00 ? OP_GRP6 : op2 == 0x01 ? OP_GRP7 : OP_LSS;
            break;
        case 0x06: in->op = OP_CLTS; break;
        case 0x08: in->op = OP_INVD; break;
        case 0x09: in->op = OP_WBINVD; break;
        case 0x20: case 0x21: case 0x22: case 0x23:
            if (i >= n) return false;
            /* MOV CR/DR always uses register operands, whatever mod says. */
            in->has_modrm = true; in->mod = 3; in->reg = (b[i] >> 3) & 7; in->rm = b[i] & 7; i++;
            in->op = op2 == 0x20 ? OP_MOV_FROM_CR : op2 == 0x22 ? OP_MOV_TO_CR : op2 == 0x21 ? OP_MOV_FROM_DR : OP_MOV_TO_DR;
            break;
        case 0x30: in->op = OP_WRMSR; break;
        case 0x32: in->op = OP_RDMSR; break;
        case 0x34: in->op = OP_SYSENTER; break;
        case 0x35: in->op = OP_SYSEXIT; break;
        default: return false;
        }
        break;
    }
    default:
        return false;
    }
    if (i > 15) return false;
    in->len = i;
    if (in->seg >= 0) in->ea_seg = in->seg;
    return true;
}

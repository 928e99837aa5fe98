/* The data-instruction emulator: MOV forms, XCHG, CMPXCHG(8B), XADD, the ALU group, INC DEC
 * NOT NEG TEST, BT BTS BTR BTC, STOS MOVS LODS, PUSH and POP of memory. It works on a copy of
 * the registers and commits them only when every memory access went through. */
#include "monitor/emu/emulate.h"
#include "monitor/emu/alu.h"
#include "arch/x86/regs.h"

struct ctx {
    const struct emu_insn *in;
    struct emu_cpu c;                 /* the working copy */
    const struct emu_bus *bus;
    uint32_t fault;
};

static uint32_t mask_of(unsigned size) { return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1; }

/* A general register of size bytes (1: AL..BL then AH..BH). */
static uint32_t reg_get(const struct emu_cpu *c, unsigned r, unsigned size)
{
    if (size == 1) return r < 4 ? c->gpr[r] & 0xff : (c->gpr[r - 4] >> 8) & 0xff;
    return c->gpr[r] & mask_of(size);
}

static void reg_set(struct emu_cpu *c, unsigned r, unsigned size, uint32_t v)
{
    if (size == 1) {
        if (r < 4) c->gpr[r] = (c->gpr[r] & ~0xffu) | (v & 0xff);
        else c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00u) | ((v & 0xff) << 8);
    } else if (size == 2) {
        c->gpr[r] = (c->gpr[r] & 0xffff0000u) | (v & 0xffff);
    } else {
        c->gpr[r] = v;
    }
}

/* The linear address of the memory operand, plus off bytes. */
static uint32_t lin(const struct ctx *x, int32_t off)
{
    return x->c.seg_base[x->in->ea_seg] + emu_ea(x->in, x->c.gpr) + (uint32_t)off;
}

static bool rd(struct ctx *x, uint32_t a, void *v, unsigned n)
{
    x->fault = x->bus->read(x->bus->ctx, a, v, n);
    return !x->fault;
}

static bool wr(struct ctx *x, uint32_t a, const void *v, unsigned n)
{
    x->fault = x->bus->write(x->bus->ctx, a, v, n);
    return !x->fault;
}

/* Read and write the r/m operand (a register or memory). */
static bool rm_get(struct ctx *x, uint32_t *v, unsigned size)
{
    if (!x->in->mem) { *v = reg_get(&x->c, x->in->rm, size); return true; }
    *v = 0;
    return rd(x, lin(x, 0), v, size);
}

static bool rm_set(struct ctx *x, uint32_t v, unsigned size)
{
    if (!x->in->mem) { reg_set(&x->c, x->in->rm, size, v); return true; }
    return wr(x, lin(x, 0), &v, size);
}

/* One element of a string instruction; REP counts ECX and keeps EIP until it is done. */
static bool string_op(struct ctx *x)
{
    const struct emu_insn *in = x->in;
    struct emu_cpu *c = &x->c;
    unsigned n = in->size;
    if (in->addrsize == 2) return false;
    if (in->rep && c->gpr[R_ECX] == 0) { c->eip += in->len; return true; }
    uint32_t step = (c->eflags & EFL_DF) ? (uint32_t)-n : n, v = 0;
    int src = in->seg != SEG_NONE ? in->seg : SEG_DS;
    switch (in->cls) {
    case K_STOS:
        v = reg_get(c, R_EAX, n);
        if (!wr(x, c->seg_base[SEG_ES] + c->gpr[R_EDI], &v, n)) return true;
        c->gpr[R_EDI] += step;
        break;
    case K_LODS:
        if (!rd(x, c->seg_base[src] + c->gpr[R_ESI], &v, n)) return true;
        reg_set(c, R_EAX, n, v);
        c->gpr[R_ESI] += step;
        break;
    default:                    /* K_MOVS */
        if (!rd(x, c->seg_base[src] + c->gpr[R_ESI], &v, n)) return true;
        if (!wr(x, c->seg_base[SEG_ES] + c->gpr[R_EDI], &v, n)) return true;
        c->gpr[R_ESI] += step;
        c->gpr[R_EDI] += step;
        break;
    }
    if (in->rep && --c->gpr[R_ECX]) return true;
    c->eip += in->len;
    return true;
}

/* BT, BTS, BTR, BTC: with a register bit offset a memory operand is a bit string. */
static bool bit_op(struct ctx *x)
{
    const struct emu_insn *in = x->in;
    unsigned bits = in->size * 8;
    uint32_t off = in->has_imm ? in->imm : reg_get(&x->c, in->reg, in->size), v = 0;
    int32_t byte = 0;
    if (in->mem && !in->has_imm) {
        int32_t s = in->size == 2 ? (int16_t)off : (int32_t)off;
        byte = (s >> (in->size == 2 ? 4 : 5)) * (int32_t)in->size;
    }
    off &= bits - 1;
    if (in->mem) { if (!rd(x, lin(x, byte), &v, in->size)) return false; }
    else v = reg_get(&x->c, in->rm, in->size);
    uint32_t bit = 1u << off;
    x->c.eflags = (x->c.eflags & ~EFL_CF) | ((v & bit) ? EFL_CF : 0);
    switch (in->sub) {
    case BT_BT: return true;
    case BT_BTS: v |= bit; break;
    case BT_BTR: v &= ~bit; break;
    default: v ^= bit; break;
    }
    if (in->mem) return wr(x, lin(x, byte), &v, in->size);
    reg_set(&x->c, in->rm, in->size, v);
    return true;
}

/* The instruction's work on the working copy; false when a bus access faulted. */
static bool perform(struct ctx *x)
{
    const struct emu_insn *in = x->in;
    struct emu_cpu *c = &x->c;
    unsigned n = in->size;
    uint32_t a = 0, b, r;
    switch (in->cls) {
    case K_MOV:
        if (in->reg_is_dest) { if (!rm_get(x, &a, n)) return false; reg_set(c, in->reg, n, a); }
        else if (!rm_set(x, in->has_imm ? in->imm : reg_get(c, in->reg, n), n)) return false;
        break;
    case K_MOVZX: case K_MOVSX:
        if (!rm_get(x, &a, n)) return false;
        if (in->cls == K_MOVSX) a = n == 1 ? (uint32_t)(int32_t)(int8_t)a : (uint32_t)(int32_t)(int16_t)a;
        reg_set(c, in->reg, in->opsize, a);
        break;
    case K_XCHG:
        if (!rm_get(x, &a, n) || !rm_set(x, reg_get(c, in->reg, n), n)) return false;
        reg_set(c, in->reg, n, a);
        break;
    case K_ALU:
        if (in->reg_is_dest) {
            if (!rm_get(x, &b, n)) return false;
            r = alu(in->sub, reg_get(c, in->reg, n), b, n, c->eflags, &c->eflags);
            if (in->sub != ALU_CMP) reg_set(c, in->reg, n, r);
        } else {
            b = in->has_imm ? in->imm : reg_get(c, in->reg, n);
            if (!rm_get(x, &a, n)) return false;
            r = alu(in->sub, a, b, n, c->eflags, &c->eflags);
            if (in->sub != ALU_CMP && !rm_set(x, r, n)) return false;
        }
        break;
    case K_TEST:
        if (!rm_get(x, &a, n)) return false;
        alu(ALU_AND, a, in->has_imm ? in->imm : reg_get(c, in->reg, n), n, c->eflags, &c->eflags);
        break;
    case K_INCDEC:
        if (!rm_get(x, &a, n)) return false;
        if (!rm_set(x, alu_incdec(in->sub, a, n, c->eflags, &c->eflags), n)) return false;
        break;
    case K_NOT:
        if (!rm_get(x, &a, n) || !rm_set(x, ~a, n)) return false;
        break;
    case K_NEG:
        if (!rm_get(x, &a, n)) return false;
        if (!rm_set(x, alu_neg(a, n, c->eflags, &c->eflags), n)) return false;
        break;
    case K_XADD:
        if (!rm_get(x, &a, n)) return false;
        r = alu(ALU_ADD, a, reg_get(c, in->reg, n), n, c->eflags, &c->eflags);
        if (!rm_set(x, r, n)) return false;
        reg_set(c, in->reg, n, a);
        break;
    case K_CMPXCHG:
        if (!rm_get(x, &a, n)) return false;
        alu(ALU_CMP, reg_get(c, R_EAX, n), a, n, c->eflags, &c->eflags);
        if (c->eflags & EFL_ZF) { if (!rm_set(x, reg_get(c, in->reg, n), n)) return false; }
        else reg_set(c, R_EAX, n, a);
        break;
    case K_CMPXCHG8B: {
        uint32_t m[2];
        if (!rd(x, lin(x, 0), m, 8)) return false;
        if (m[0] == c->gpr[R_EAX] && m[1] == c->gpr[R_EDX]) {
            uint32_t w[2] = { c->gpr[R_EBX], c->gpr[R_ECX] };
            if (!wr(x, lin(x, 0), w, 8)) return false;
            c->eflags |= EFL_ZF;
        } else {
            c->gpr[R_EAX] = m[0];
            c->gpr[R_EDX] = m[1];
            c->eflags &= ~EFL_ZF;
        }
        break;
    }
    case K_BT:
        if (!bit_op(x)) return false;
        break;
    case K_STOS: case K_MOVS: case K_LODS:
        return string_op(x) && !x->fault;
    case K_PUSH:
        if (!rm_get(x, &a, n)) return false;
        if (!wr(x, c->seg_base[SEG_SS] + c->gpr[R_ESP] - n, &a, n)) return false;
        c->gpr[R_ESP] -= n;
        break;
    case K_POP:
        if (!rd(x, c->seg_base[SEG_SS] + c->gpr[R_ESP], &a, n)) return false;
        c->gpr[R_ESP] += n;            /* an ESP-based destination sees ESP after the pop */
        if (!rm_set(x, a, n)) return false;
        break;
    default:
        return false;
    }
    c->eip += in->len;
    return true;
}

enum emu_status emu_execute(const struct emu_insn *in, struct emu_cpu *c, const struct emu_bus *bus,
                            uint32_t *fault)
{
    if (in->cls < K_MOV || in->cls > K_POP || (in->size > 4 && in->cls != K_CMPXCHG8B))
        return EMU_UNSUPPORTED;
    if ((in->cls == K_STOS || in->cls == K_MOVS || in->cls == K_LODS) && in->addrsize == 2)
        return EMU_UNSUPPORTED;
    struct ctx x = { in, *c, bus, 0 };
    if (!perform(&x)) {
        if (!x.fault) return EMU_UNSUPPORTED;
        *fault = x.fault;
        return EMU_FAULT;
    }
    *c = x.c;
    return EMU_OK;
}

/* The emulator's ALU: results and CF PF AF ZF SF OF exactly as the SDM defines them. For the
 * logical operations AF is undefined by the architecture; it is cleared here. */
#include "monitor/emu/alu.h"
#include "monitor/emu/decode.h"
#include "arch/x86/regs.h"

static uint32_t mask_of(unsigned size) { return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1; }
static uint32_t sign_of(unsigned size) { return 1u << (size * 8 - 1); }

/* ZF, SF and PF of a result. */
static uint32_t zsp(uint32_t r, unsigned size)
{
    uint32_t f = 0;
    uint8_t low = (uint8_t)r;
    low ^= low >> 4; low ^= low >> 2; low ^= low >> 1;
    if (!(low & 1)) f |= EFL_PF;
    if (!(r & mask_of(size))) f |= EFL_ZF;
    if (r & sign_of(size)) f |= EFL_SF;
    return f;
}

uint32_t alu(unsigned op, uint32_t a, uint32_t b, unsigned size, uint32_t fl, uint32_t *out)
{
    uint32_t m = mask_of(size), s = sign_of(size), r, f = 0;
    a &= m; b &= m;
    uint32_t cin = (fl & EFL_CF) ? 1 : 0;
    switch (op) {
    case ALU_ADD: case ALU_ADC: {
        uint32_t c = op == ALU_ADC ? cin : 0;
        uint64_t full = (uint64_t)a + b + c;
        r = (uint32_t)full & m;
        if (full > m) f |= EFL_CF;
        if ((a ^ r) & (b ^ r) & s) f |= EFL_OF;
        if ((a ^ b ^ r) & 0x10) f |= EFL_AF;
        break;
    }
    case ALU_SUB: case ALU_SBB: case ALU_CMP: {
        uint32_t c = op == ALU_SBB ? cin : 0;
        r = (a - b - c) & m;
        if ((uint64_t)a < (uint64_t)b + c) f |= EFL_CF;
        if ((a ^ b) & (a ^ r) & s) f |= EFL_OF;
        if ((a ^ b ^ r) & 0x10) f |= EFL_AF;
        if (op == ALU_CMP) { *out = (fl & ~ALU_FLAGS) | f | zsp(r, size); return a; }
        break;
    }
    case ALU_OR: r = a | b; break;
    case ALU_AND: r = a & b; break;
    default: r = a ^ b; break;      /* ALU_XOR */
    }
    *out = (fl & ~ALU_FLAGS) | f | zsp(r, size);
    return r;
}

uint32_t alu_incdec(bool dec, uint32_t a, unsigned size, uint32_t fl, uint32_t *out)
{
    uint32_t r = alu(dec ? ALU_SUB : ALU_ADD, a, 1, size, fl, out);
    *out = (*out & ~EFL_CF) | (fl & EFL_CF);
    return r;
}

uint32_t alu_neg(uint32_t a, unsigned size, uint32_t fl, uint32_t *out)
{
    return alu(ALU_SUB, 0, a, size, fl, out);
}

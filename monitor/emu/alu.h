/* Arithmetic with the flags the hardware computes: the emulator's ALU. */
#ifndef MONITOR_EMU_ALU_H
#define MONITOR_EMU_ALU_H
#include <stdbool.h>
#include <stdint.h>

/* The flags an ALU operation defines: CF PF AF ZF SF OF. */
#define ALU_FLAGS 0x8d5u

/* Compute op (ALU_* from decode.h) on a and b of size bytes with the incoming flags fl;
 * returns the result and sets *out to fl with the arithmetic flags replaced. */
uint32_t alu(unsigned op, uint32_t a, uint32_t b, unsigned size, uint32_t fl, uint32_t *out);
/* INC (dec false) or DEC: like ADD/SUB 1 but CF is kept. */
uint32_t alu_incdec(bool dec, uint32_t a, unsigned size, uint32_t fl, uint32_t *out);
/* NEG: 0 - a; CF set unless a is 0. */
uint32_t alu_neg(uint32_t a, unsigned size, uint32_t fl, uint32_t *out);

#endif

/* The x86 instruction decoder: one guest instruction into its parts (decode only, no effects). */
#ifndef MONITOR_EMU_DECODE_H
#define MONITOR_EMU_DECODE_H
#include <stdbool.h>
#include <stdint.h>

/* Segment registers, in the encoding's order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = -1 };
/* General registers, in the encoding's order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R_NONE = -1 };

/* What an instruction is, as far as the monitor cares. */
enum emu_class {
    K_OTHER,
    /* data instructions the emulator can perform (emulate.c) */
    K_MOV, K_MOVZX, K_MOVSX, K_XCHG, K_CMPXCHG, K_CMPXCHG8B, K_XADD, K_ALU, K_INCDEC, K_NOT, K_NEG,
    K_TEST, K_BT, K_STOS, K_MOVS, K_LODS, K_PUSH, K_POP,
    /* privileged and sensitive instructions the monitor performs itself */
    K_CLI, K_STI, K_HLT, K_IN, K_OUT, K_INS, K_OUTS, K_INT, K_INT3, K_INTO, K_IRET, K_RETF,
    K_POP_SREG, K_PUSH_SREG, K_MOV_SREG, K_MOV_FROM_SREG, K_LSEG, K_GRP6, K_GRP7, K_CLTS, K_INVD, K_WBINVD,
    K_MOV_FROM_CR, K_MOV_TO_CR, K_MOV_FROM_DR, K_MOV_TO_DR, K_WRMSR, K_RDMSR, K_RDTSC, K_RDPMC, K_CPUID,
    K_SYSENTER, K_SYSEXIT, K_PUSHF, K_POPF, K_JMPF, K_CALLF, K_LAR, K_LSL, K_UD2,
    K_FPU_ENV,       /* FNSTENV, FNSAVE: they store the selector of the last x87 instruction */
    K_CLASSES
};

/* Arithmetic-logic operations of K_ALU (the group-1 order) and bit tests of K_BT. */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };
enum { BT_BT, BT_BTS, BT_BTR, BT_BTC };

/* Why decoding stopped. */
enum emu_status { EMU_OK, EMU_NEED_MORE, EMU_TOO_LONG, EMU_BAD, EMU_FAULT, EMU_UNSUPPORTED };

struct emu_insn {
    uint8_t len;
    uint8_t opsize, addrsize;      /* 2 or 4 bytes */
    int8_t seg;                    /* segment override, SEG_NONE if none */
    bool lock, rep, repne;
    uint16_t opcode;               /* 0x0fxx for two-byte opcodes */
    enum emu_class cls;
    uint8_t sub;                   /* ALU_* / BT_* / INC 0 DEC 1 / the ModRM reg field for groups */
    bool has_modrm;
    uint8_t mod, reg, rm;
    /* The r/m operand when it is memory: disp + base + index * scale, in segment ea_seg. */
    bool mem;
    int8_t base, index;
    uint8_t scale;
    uint32_t disp;
    int8_t ea_seg;
    unsigned size;                 /* operand size in bytes of the data operation (1, 2, 4, 8) */
    bool reg_is_dest;              /* direction: the ModRM reg field is the destination */
    bool has_imm;
    uint32_t imm, imm2;            /* immediate; imm2 the selector of a far pointer */
};

/* The effective address (offset within its segment) of the memory operand, from the guest's
 * general registers in encoding order; wraps at 64 KiB for 16-bit addressing. */
uint32_t emu_ea(const struct emu_insn *in, const uint32_t gpr[8]);
/* Decode bytes[0..n) as one instruction for a code segment of 32 bits (code32) or 16.
 * EMU_NEED_MORE when n is too short for what the bytes announce; nothing else is touched. */
enum emu_status emu_decode(const uint8_t *bytes, unsigned n, bool code32, struct emu_insn *in);

#endif

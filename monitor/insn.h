/* Decoding the one guest instruction that trapped: what it is and where its operand lives.
 * (A stopgap for privileged instructions until the shared decoder in monitor/emu/ lands.) */
#ifndef MONITOR_INSN_H
#define MONITOR_INSN_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

enum insn_op {
    OP_OTHER, OP_CLI, OP_STI, OP_HLT, OP_IN, OP_OUT, OP_INS, OP_OUTS, OP_INT, OP_IRET, OP_RETF,
    OP_POP_SS, OP_MOV_SREG, OP_LSS, OP_GRP6, OP_GRP7, OP_CLTS, OP_INVD, OP_WBINVD, OP_MOV_FROM_CR,
    OP_MOV_TO_CR, OP_MOV_FROM_DR, OP_MOV_TO_DR, OP_WRMSR, OP_RDMSR, OP_SYSENTER, OP_SYSEXIT,
};

struct insn {
    enum insn_op op;
    uint32_t len;
    bool op16, addr16, rep, lock;
    int seg;                  /* segment override: 0-5 (ES CS SS DS FS GS), -1 none */
    bool has_modrm, mem;      /* mem: the r/m operand is memory */
    uint8_t mod, reg, rm;
    uint32_t ea;              /* effective address (offset in the segment) when mem */
    int ea_seg;               /* default segment of the effective address */
    uint32_t imm;             /* immediate (port, vector, RETF bytes) */
    unsigned size;            /* operand size in bytes for I/O and string ops */
};

/* Decode bytes[0..n) as the guest's instruction, using the guest's registers for the address.
 * false when it is not one the monitor handles (or is malformed). */
bool insn_decode(const uint8_t *bytes, uint32_t n, const struct guest_frame *f, struct insn *in);

#endif

/* The x86 data-instruction emulator: performs one decoded instruction against the guest's
 * registers and a bus of guest-linear memory (emulated page-table writes, MMIO). */
#ifndef MONITOR_EMU_EMULATE_H
#define MONITOR_EMU_EMULATE_H
#include <stdint.h>
#include "monitor/emu/decode.h"

/* The guest registers the emulator reads and writes. */
struct emu_cpu {
    uint32_t gpr[8];              /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip, eflags;
    uint32_t seg_base[6];         /* ES CS SS DS FS GS */
};

/* Guest-linear memory: each call returns 0, or a fault code the caller understands (it is
 * handed back through emu_execute's *fault). Reads come before any write in every
 * instruction, so a read fault leaves memory untouched; a write fault may follow earlier
 * writes only for the few instructions that write twice (none of those here). */
struct emu_bus {
    uint32_t (*read)(void *ctx, uint32_t lin, void *buf, unsigned n);
    uint32_t (*write)(void *ctx, uint32_t lin, const void *buf, unsigned n);
    void *ctx;
};

/* Perform a decoded data instruction (classes K_MOV to K_POP). EMU_OK: registers, flags and
 * memory updated, EIP past it (a REP string instruction does one element per call and
 * leaves EIP on itself until ECX reaches 0). EMU_FAULT: the bus faulted, *fault says how,
 * and no register changed. EMU_UNSUPPORTED: a form this emulator does not perform. */
enum emu_status emu_execute(const struct emu_insn *in, struct emu_cpu *c, const struct emu_bus *bus,
                            uint32_t *fault);

#endif

/* The emulator against the CPU running the tests: the same instruction bytes, executed
 * natively (the encodings used are valid in 64-bit mode too, with [rbx] as the operand) and
 * by emu_execute, must leave the same memory, registers and defined flags. */
#define _GNU_SOURCE
#include "tests/unit/unit.h"
#include "monitor/emu/emulate.h"
#include "monitor/emu/alu.h"
#include "arch/x86/regs.h"
#include <sys/mman.h>
#include <stdlib.h>

struct nat { uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, rflags; };
void native_exec(struct nat *s, const void *code);
__asm__(".text\n.globl native_exec\nnative_exec:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\n"
        "mov %rdi, %r12\nmov %rsi, %r13\n"
        "mov 0(%r12), %rax\nmov 8(%r12), %rcx\nmov 16(%r12), %rdx\nmov 24(%r12), %rbx\n"
        "mov 40(%r12), %rbp\nmov 48(%r12), %rsi\nmov 56(%r12), %rdi\n"
        "pushq 64(%r12)\npopfq\n"
        "call *%r13\n"
        "pushfq\npopq 64(%r12)\n"
        "mov %rax, 0(%r12)\nmov %rcx, 8(%r12)\nmov %rdx, 16(%r12)\nmov %rbx, 24(%r12)\n"
        "mov %rbp, 40(%r12)\nmov %rsi, 48(%r12)\nmov %rdi, 56(%r12)\n"
        "pop %r13\npop %r12\npop %rbp\npop %rbx\nret\n");

#define BASE 0x1000u
static uint8_t mem_emu[64], *mem_nat, *code;

static uint32_t bus_rd(void *ctx, uint32_t a, void *buf, unsigned n)
{
    (void)ctx;
    if (a < BASE || a + n > BASE + sizeof mem_emu) return 0xe;      /* outside: a fault */
    memcpy(buf, mem_emu + (a - BASE), n);
    return 0;
}

static uint32_t bus_wr(void *ctx, uint32_t a, const void *buf, unsigned n)
{
    (void)ctx;
    if (a < BASE || a + n > BASE + sizeof mem_emu) return 0xe;
    memcpy(mem_emu + (a - BASE), buf, n);
    return 0;
}

static const struct emu_bus bus = { bus_rd, bus_wr, 0 };
static uint32_t rng = 12345;
static uint32_t rnd(void) { rng = rng * 1103515245u + 12345u; return rng >> 8 | rng << 24; }

/* Values that find carries, overflows, signs, zeros and parities. */
static uint32_t edge(void)
{
    static const uint32_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
                                  0x80000000, 0xffffffff, 0x0f, 0x10, 0xfffffffe };
    return (rnd() & 1) ? v[rnd() % (sizeof v / sizeof v[0])] : rnd();
}

/* Run one instruction both ways from the same state and compare. flagmask: defined flags. */
static void differ(const uint8_t *insn, unsigned len, uint32_t flagmask, const char *what)
{
    struct emu_insn in;
    if (emu_decode(insn, len, true, &in) != EMU_OK || in.len != len) {
        unit_fail(__FILE__, __LINE__, what);
        return;
    }
    uint32_t a = edge(), c = edge(), d = edge(), fl = (rnd() & (ALU_FLAGS | EFL_DF)) & ~EFL_DF;
    for (unsigned i = 0; i < sizeof mem_emu; i++) mem_emu[i] = (uint8_t)edge();
    memcpy(mem_nat, mem_emu, sizeof mem_emu);

    struct nat s = { a, c, d, (uint64_t)(uintptr_t)mem_nat, 0, 0, 0, 0, fl | 2 };
    memcpy(code, insn, len);
    code[len] = 0xc3;
    native_exec(&s, code);

    struct emu_cpu e = { { a, c, d, BASE, 0, 0, 0, 0 }, 0, fl | 2, { 0 } };
    uint32_t fault = 0;
    enum emu_status st = emu_execute(&in, &e, &bus, &fault);
    char m[200];
    if (st != EMU_OK) { snprintf(m, sizeof m, "%s: status %d", what, st); unit_fail(__FILE__, __LINE__, m); return; }
    if (memcmp(mem_nat, mem_emu, sizeof mem_emu) || (uint32_t)s.rax != e.gpr[R_EAX] ||
        (uint32_t)s.rcx != e.gpr[R_ECX] || (uint32_t)s.rdx != e.gpr[R_EDX] ||
        ((uint32_t)s.rflags & flagmask) != (e.eflags & flagmask) || e.eip != len) {
        snprintf(m, sizeof m, "%s: eax %x/%x ecx %x/%x flags %x/%x (in a=%x c=%x d=%x fl=%x)", what,
                 (uint32_t)s.rax, e.gpr[R_EAX], (uint32_t)s.rcx, e.gpr[R_ECX],
                 (uint32_t)s.rflags & flagmask, e.eflags & flagmask, a, c, d, fl);
        unit_fail(__FILE__, __LINE__, m);
    }
}

static void setup(void)
{
    if (!code) {
        code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mem_nat = malloc(sizeof mem_emu);
    }
}

#define ALL ALU_FLAGS
#define NO_AF (ALU_FLAGS & ~EFL_AF)

TEST(emu_exec_alu_matches_cpu)
{
    setup();
    for (int round = 0; round < 300; round++) {
        for (unsigned op = 0; op < 8; op++) {
            uint32_t fm = (op == ALU_OR || op == ALU_AND || op == ALU_XOR) ? NO_AF : ALL;
            uint8_t b[8];
            /* op [ebx], reg (8 and 32 bits), op reg, [ebx], and 16 bits with 0x66 */
            b[0] = (uint8_t)(op << 3 | 0); b[1] = 0x0b;  differ(b, 2, fm, "alu r/m8, cl");
            b[0] = (uint8_t)(op << 3 | 1); b[1] = 0x03;  differ(b, 2, fm, "alu r/m32, eax");
            b[0] = (uint8_t)(op << 3 | 3); b[1] = 0x13;  differ(b, 2, fm, "alu edx, r/m32");
            b[0] = 0x66; b[1] = (uint8_t)(op << 3 | 1); b[2] = 0x4b; b[3] = 2; differ(b, 4, fm, "alu r/m16, cx");
            b[0] = 0x80; b[1] = (uint8_t)(op << 3 | 3); b[2] = (uint8_t)rnd(); differ(b, 3, fm, "alu r/m8, imm8");
            b[0] = 0x83; b[1] = (uint8_t)(op << 3 | 3); b[2] = (uint8_t)rnd(); differ(b, 3, fm, "alu r/m32, simm8");
            uint32_t imm = edge();
            b[0] = 0x81; b[1] = (uint8_t)(op << 3 | 0x43); b[2] = 4; memcpy(b + 3, &imm, 4); differ(b, 7, fm, "alu [ebx+4], imm32");
        }
    }
}

TEST(emu_exec_unary_and_test_match_cpu)
{
    setup();
    for (int round = 0; round < 300; round++) {
        static const uint8_t inc[] = { 0xff, 0x03 }, dec8[] = { 0xfe, 0x0b }, not32[] = { 0xf7, 0x13 },
            neg32[] = { 0xf7, 0x1b }, neg8[] = { 0xf6, 0x1b }, test[] = { 0x85, 0x03 },
            testi[] = { 0xf6, 0x03, 0x81 }, neg16[] = { 0x66, 0xf7, 0x1b };
        differ(inc, 2, ALL, "inc dword [ebx]");
        differ(dec8, 2, ALL, "dec byte [ebx]");
        differ(not32, 2, ALL, "not dword [ebx]");
        differ(neg32, 2, ALL, "neg dword [ebx]");
        differ(neg8, 2, ALL, "neg byte [ebx]");
        differ(neg16, 3, ALL, "neg word [ebx]");
        differ(test, 2, NO_AF, "test [ebx], eax");
        differ(testi, 3, NO_AF, "test byte [ebx], 0x81");
    }
}

TEST(emu_exec_moves_and_atomics_match_cpu)
{
    setup();
    for (int round = 0; round < 300; round++) {
        static const uint8_t mov1[] = { 0x89, 0x03 }, mov2[] = { 0x8b, 0x13 }, mov3[] = { 0x88, 0x63, 0x05 },
            movi[] = { 0xc7, 0x43, 0x08, 0x78, 0x56, 0x34, 0x12 }, movb[] = { 0xc6, 0x03, 0x9c },
            zx[] = { 0x0f, 0xb6, 0x43, 0x03 }, sx[] = { 0x0f, 0xbf, 0x4b, 0x02 }, xchg[] = { 0x87, 0x0b },
            xadd[] = { 0xf0, 0x0f, 0xc1, 0x03 }, cx[] = { 0xf0, 0x0f, 0xb1, 0x0b }, cx8[] = { 0x0f, 0xb0, 0x13 },
            mov16[] = { 0x66, 0x89, 0x53, 0x06 };
        differ(mov1, 2, ALL, "mov [ebx], eax");
        differ(mov2, 2, ALL, "mov edx, [ebx]");
        differ(mov3, 3, ALL, "mov [ebx+5], ah");
        differ(movi, 7, ALL, "mov dword [ebx+8], imm32");
        differ(movb, 3, ALL, "mov byte [ebx], imm8");
        differ(zx, 4, ALL, "movzx eax, byte [ebx+3]");
        differ(sx, 4, ALL, "movsx ecx, word [ebx+2]");
        differ(xchg, 2, ALL, "xchg [ebx], ecx");
        differ(xadd, 4, ALL, "lock xadd [ebx], eax");
        differ(cx, 4, ALL, "lock cmpxchg [ebx], ecx");
        differ(cx8, 3, ALL, "cmpxchg [ebx], dl");
        differ(mov16, 4, ALL, "mov [ebx+6], dx");
        /* Make the compare succeed half the time: memory equal to EAX. */
    }
}

TEST(emu_exec_bit_tests_match_cpu)
{
    setup();
    for (int round = 0; round < 300; round++) {
        uint8_t bi[] = { 0x0f, 0xba, 0x23, (uint8_t)(rnd() & 31) };
        for (unsigned k = 0; k < 4; k++) {
            bi[2] = (uint8_t)(0x23 + 8 * k);               /* bt/bts/btr/btc dword [ebx], imm8 */
            differ(bi, 4, EFL_CF, "bt* dword [ebx], imm8");
        }
    }
}

TEST(emu_exec_faults_leave_registers)
{
    /* A write outside the bus's memory faults; registers and EIP stay as they were. */
    static const uint8_t b[] = { 0x89, 0x43, 0x7f };      /* mov [ebx+0x7f], eax */
    struct emu_insn in;
    CHECK_EQ(emu_decode(b, 3, true, &in), EMU_OK);
    struct emu_cpu e = { { 1, 2, 3, BASE + 0x100, 0, 0, 0, 0 }, 0x100, 2, { 0 } };
    struct emu_cpu before = e;
    uint32_t fault = 0;
    CHECK_EQ(emu_execute(&in, &e, &bus, &fault), EMU_FAULT);
    CHECK_EQ(fault, 0xe);
    CHECK(!memcmp(&e, &before, sizeof e));
}

TEST(emu_exec_string_ops_step_one_element)
{
    static const uint8_t b[] = { 0xf3, 0xab };            /* rep stosd */
    struct emu_insn in;
    CHECK_EQ(emu_decode(b, 2, true, &in), EMU_OK);
    memset(mem_emu, 0, sizeof mem_emu);
    struct emu_cpu e = { { 0xdeadbeef, 3, 0, 0, 0, 0, 0, BASE }, 0, 2, { 0 } };
    uint32_t fault;
    CHECK_EQ(emu_execute(&in, &e, &bus, &fault), EMU_OK);
    CHECK_EQ(e.eip, 0);                                   /* still on the instruction */
    CHECK_EQ(e.gpr[R_ECX], 2); CHECK_EQ(e.gpr[R_EDI], BASE + 4);
    emu_execute(&in, &e, &bus, &fault);
    emu_execute(&in, &e, &bus, &fault);
    CHECK_EQ(e.gpr[R_ECX], 0); CHECK_EQ(e.eip, 2);        /* done: past it */
    uint32_t w[3];
    memcpy(w, mem_emu, 12);
    CHECK(w[0] == 0xdeadbeef && w[1] == 0xdeadbeef && w[2] == 0xdeadbeef);
    /* With DF set it walks down. */
    e.eflags |= EFL_DF; e.eip = 0; e.gpr[R_ECX] = 1; e.gpr[R_EDI] = BASE + 20; e.gpr[R_EAX] = 7;
    CHECK_EQ(emu_execute(&in, &e, &bus, &fault), EMU_OK);
    CHECK_EQ(e.gpr[R_EDI], BASE + 16);
}

/* MOV between eAX and a direct address (A0-A3): the moffs is the operand's address, never a
 * value to store (64-bit mode encodes it differently, so no native comparison here). */
TEST(emu_mov_moffs_stores_and_loads_eax)
{
    static const uint8_t store[] = { 0xa3, 0x00, 0x10, 0x00, 0x00 }, load[] = { 0xa1, 0x04, 0x10, 0x00, 0x00 },
                         store8[] = { 0xa2, 0x08, 0x10, 0x00, 0x00 };
    struct emu_insn in;
    struct emu_cpu c = { { 0x12345678, 0, 0, 0, 0, 0, 0, 0 }, 0, 2, { 0 } };
    uint32_t fault = 0, v;
    memset(mem_emu, 0, sizeof mem_emu);
    mem_emu[4] = 0xef; mem_emu[5] = 0xbe; mem_emu[6] = 0xad; mem_emu[7] = 0xde;
    CHECK_EQ(emu_decode(store, sizeof store, true, &in), EMU_OK);
    CHECK_EQ(emu_execute(&in, &c, &bus, &fault), EMU_OK);
    memcpy(&v, mem_emu, 4);
    CHECK_EQ(v, 0x12345678);
    CHECK_EQ(c.eip, 5);
    CHECK_EQ(emu_decode(store8, sizeof store8, true, &in), EMU_OK);
    CHECK_EQ(emu_execute(&in, &c, &bus, &fault), EMU_OK);
    CHECK_EQ(mem_emu[8], 0x78);
    CHECK_EQ(emu_decode(load, sizeof load, true, &in), EMU_OK);
    CHECK_EQ(emu_execute(&in, &c, &bus, &fault), EMU_OK);
    CHECK_EQ(c.gpr[R_EAX], 0xdeadbeef);
}

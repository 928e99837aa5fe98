/* The decoder against NASM: the length of every instruction in tools/emu_corpus.asm, the
 * classes and operands the monitor relies on, and the limits (short input, 15 bytes). */
#include "tests/unit/unit.h"
#include "monitor/emu/decode.h"
#include "tests/unit/emu_vectors.h"

TEST(emu_decode_lengths_match_nasm)
{
    for (unsigned i = 0; i < sizeof emu_vectors / sizeof emu_vectors[0]; i++) {
        const struct emu_vector *v = &emu_vectors[i];
        struct emu_insn in;
        enum emu_status s = emu_decode(v->bytes, v->len, true, &in);
        if (s != EMU_OK || in.len != v->len) {
            char m[160];
            snprintf(m, sizeof m, "'%s': status %d length %u, want %u", v->text, s, in.len, v->len);
            unit_fail(__FILE__, __LINE__, m);
        }
        /* One byte short is never OK. */
        CHECK_EQ(emu_decode(v->bytes, v->len - 1, true, &in), EMU_NEED_MORE);
    }
}

/* Decode a byte string that must be OK. */
static struct emu_insn dec(const uint8_t *b, unsigned n)
{
    struct emu_insn in;
    CHECK_EQ(emu_decode(b, n, true, &in), EMU_OK);
    return in;
}

TEST(emu_decode_operands)
{
    static const uint8_t mov_sib[] = { 0x89, 0x44, 0xbe, 0x7f };          /* mov [esi+edi*4+0x7f], eax */
    struct emu_insn in = dec(mov_sib, sizeof mov_sib);
    CHECK_EQ(in.cls, K_MOV); CHECK(in.mem); CHECK(!in.reg_is_dest);
    CHECK_EQ(in.base, R_ESI); CHECK_EQ(in.index, R_EDI); CHECK_EQ(in.scale, 2); CHECK_EQ(in.disp, 0x7f);
    CHECK_EQ(in.reg, R_EAX); CHECK_EQ(in.size, 4); CHECK_EQ(in.ea_seg, SEG_DS);
    static const uint8_t ebp[] = { 0x8b, 0x45, 0xf8 };                    /* mov eax, [ebp-8] */
    in = dec(ebp, sizeof ebp);
    CHECK_EQ(in.ea_seg, SEG_SS); CHECK_EQ(in.disp, 0xfffffff8u); CHECK(in.reg_is_dest);
    static const uint8_t abs[] = { 0xa3, 0x00, 0x20, 0x00, 0x00 };         /* mov [0x2000], eax */
    in = dec(abs, sizeof abs);
    CHECK_EQ(in.cls, K_MOV); CHECK(in.mem); CHECK_EQ(in.base, R_NONE); CHECK_EQ(in.disp, 0x2000);
    static const uint8_t grp1[] = { 0xf0, 0x83, 0x0b, 0xff };             /* lock or dword [ebx], -1 */
    in = dec(grp1, sizeof grp1);
    CHECK_EQ(in.cls, K_ALU); CHECK_EQ(in.sub, ALU_OR); CHECK(in.lock); CHECK_EQ(in.imm, 0xffffffffu);
    static const uint8_t fs[] = { 0x64, 0x8b, 0x05, 0, 0, 0, 0 };         /* fs mov eax, [0] */
    in = dec(fs, sizeof fs);
    CHECK_EQ(in.ea_seg, SEG_FS);
    static const uint8_t w16[] = { 0x67, 0x8b, 0x46, 0x06 };              /* a16 mov ax?, [bp+6] */
    in = dec(w16, sizeof w16);
    CHECK_EQ(in.base, R_EBP); CHECK_EQ(in.index, R_NONE); CHECK_EQ(in.ea_seg, SEG_SS); CHECK_EQ(in.disp, 6);
    static const uint8_t cr[] = { 0x0f, 0x22, 0xd8 };                     /* mov cr3, eax */
    in = dec(cr, sizeof cr);
    CHECK_EQ(in.cls, K_MOV_TO_CR); CHECK_EQ(in.reg, 3); CHECK_EQ(in.rm, R_EAX); CHECK(!in.mem);
    static const uint8_t cr_mod1[] = { 0x0f, 0x20, 0x44, 0x90 };         /* mov esp, cr0 with mod 01, rm 100 */
    in = dec(cr_mod1, sizeof cr_mod1);
    CHECK_EQ(in.cls, K_MOV_FROM_CR); CHECK_EQ(in.len, 3); CHECK_EQ(in.rm, R_ESP); CHECK(!in.mem);
    static const uint8_t dr_mod0[] = { 0x0f, 0x23, 0x05, 0, 0, 0, 0 };    /* mov dr0, ebp with mod 00, rm 101 */
    in = dec(dr_mod0, sizeof dr_mod0);
    CHECK_EQ(in.cls, K_MOV_TO_DR); CHECK_EQ(in.len, 3); CHECK_EQ(in.rm, R_EBP); CHECK_EQ(in.reg, 0);
    static const uint8_t vex2[] = { 0xc5, 0xf8, 0x17, 0x00 };            /* vmovhps [eax], xmm0 */
    in = dec(vex2, sizeof vex2);
    CHECK_EQ(in.cls, K_OTHER); CHECK_EQ(in.len, 4); CHECK(in.mem);
    static const uint8_t vex3[] = { 0xc4, 0xe3, 0x7d, 0x18, 0x44, 0x24, 0x10, 0x01 };   /* vinsertf128 ymm0, ymm0, [esp+16], 1 */
    in = dec(vex3, sizeof vex3);
    CHECK_EQ(in.cls, K_OTHER); CHECK_EQ(in.len, 8); CHECK_EQ(in.imm, 1);
    static const uint8_t vzero[] = { 0xc5, 0xfc, 0x77 };                  /* vzeroall */
    in = dec(vzero, sizeof vzero);
    CHECK_EQ(in.len, 3);
    static const uint8_t lds[] = { 0xc5, 0x05, 0x00, 0x10, 0x00, 0x00 };  /* lds eax, [0x1000] */
    in = dec(lds, sizeof lds);
    CHECK_EQ(in.cls, K_LSEG); CHECK_EQ(in.len, 6);
    static const uint8_t far[] = { 0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00 };
    in = dec(far, sizeof far);
    CHECK_EQ(in.cls, K_JMPF); CHECK_EQ(in.imm, 0x12345678); CHECK_EQ(in.imm2, 8);
    static const uint8_t retf8[] = { 0xca, 0x08, 0x00 };
    in = dec(retf8, sizeof retf8);
    CHECK_EQ(in.cls, K_RETF); CHECK_EQ(in.imm, 8);
    static const uint8_t cx8[] = { 0xf0, 0x0f, 0xc7, 0x0f };              /* lock cmpxchg8b [edi] */
    in = dec(cx8, sizeof cx8);
    CHECK_EQ(in.cls, K_CMPXCHG8B); CHECK_EQ(in.size, 8); CHECK_EQ(in.base, R_EDI);
    static const uint8_t bts[] = { 0x0f, 0xba, 0x2b, 0x1f };              /* bts dword [ebx], 31 */
    in = dec(bts, sizeof bts);
    CHECK_EQ(in.cls, K_BT); CHECK_EQ(in.sub, BT_BTS); CHECK_EQ(in.imm, 31);
}

TEST(emu_decode_16bit_code)
{
    static const uint8_t b[] = { 0x8b, 0x07 };                            /* mov ax, [bx] in 16-bit code */
    struct emu_insn in;
    CHECK_EQ(emu_decode(b, sizeof b, false, &in), EMU_OK);
    CHECK_EQ(in.opsize, 2); CHECK_EQ(in.addrsize, 2); CHECK_EQ(in.base, R_EBX); CHECK_EQ(in.len, 2);
    static const uint8_t imm[] = { 0xb8, 0x34, 0x12 };                    /* mov ax, 0x1234 */
    CHECK_EQ(emu_decode(imm, sizeof imm, false, &in), EMU_OK);
    CHECK_EQ(in.len, 3);
}

TEST(emu_decode_limits)
{
    uint8_t b[20];
    struct emu_insn in;
    memset(b, 0x66, sizeof b);                       /* prefixes forever */
    CHECK_EQ(emu_decode(b, sizeof b, true, &in), EMU_TOO_LONG);
    CHECK_EQ(emu_decode(b, 0, true, &in), EMU_NEED_MORE);
    static const uint8_t bad[] = { 0x0f, 0xff };
    CHECK_EQ(emu_decode(bad, sizeof bad, true, &in), EMU_BAD);
    /* 14 prefixes plus a one-byte opcode is 15 bytes: allowed. */
    memset(b, 0x3e, 14); b[14] = 0x90;
    CHECK_EQ(emu_decode(b, 15, true, &in), EMU_OK);
    CHECK_EQ(in.len, 15);
    /* 14 prefixes plus a two-byte instruction is 16: too long. */
    b[14] = 0x89; b[15] = 0x03;
    CHECK_EQ(emu_decode(b, 16, true, &in), EMU_TOO_LONG);
}

/* The scanner of scan-before-execute: what it copies, patches and leaves as INT3. */
#include "tests/unit/unit.h"
#include "monitor/scan.h"

static uint8_t orig[SCAN_PAGE], copy[SCAN_PAGE], starts[SCAN_PAGE / 8], covered[SCAN_PAGE / 8];

/* A page of `fill` with code at off; the copy all INT3, nothing decoded. */
static void setup(uint8_t fill, unsigned off, const uint8_t *code, unsigned n)
{
    memset(orig, fill, sizeof orig);
    memcpy(orig + off, code, n);
    memset(copy, SCAN_FILL, sizeof copy);
    memset(starts, 0, sizeof starts);
    memset(covered, 0, sizeof covered);
}

static struct scan_result run(unsigned entry, const uint8_t *next)
{
    struct scan_page p = { copy, starts, covered };
    struct scan_result r;
    scan_page(&p, orig, next, entry, true, &r);
    return r;
}

static bool start_at(unsigned off) { return starts[off / 8] & (1u << (off % 8)); }

TEST(scan_patches_sensitive_and_copies_the_rest)
{
    /* mov eax,1; pushf; cli... no: pushf; popf; mov ax,cs; push cs; lar eax,ecx; sgdt [eax]; ret */
    static const uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0x9c, 0x9d, 0x66, 0x8c, 0xc8, 0x0e, 0x0f, 0x02, 0xc1,
                                    0x0f, 0x01, 0x00, 0x8c, 0xd8, 0xc3, 0x9d };
    setup(0x90, 100, code, sizeof code);
    struct scan_result r = run(100, 0);
    CHECK_EQ(r.decoded, 9);
    CHECK_EQ(r.patched, 5);                          /* popf, mov ax,cs, push cs, lar, sgdt */
    CHECK_EQ(copy[100], 0xb8);                       /* copied as it is */
    CHECK(!memcmp(copy + 101, orig + 101, 4));
    CHECK_EQ(copy[105], 0x9c);                       /* PUSHF: not sensitive while IOPL is 0 */
    CHECK_EQ(copy[106], SCAN_FILL);                  /* POPF */
    CHECK_EQ(copy[107], SCAN_FILL);                  /* the prefix of MOV AX,CS is the start */
    CHECK_EQ(copy[108], 0x8c);
    CHECK_EQ(copy[110], SCAN_FILL);                  /* PUSH CS */
    CHECK_EQ(copy[111], SCAN_FILL);                  /* LAR */
    CHECK_EQ(copy[114], SCAN_FILL);                  /* SGDT */
    CHECK_EQ(copy[117], 0x8c);                       /* MOV EAX,DS: the guest's own selector anyway */
    CHECK_EQ(copy[119], 0xc3);
    CHECK_EQ(copy[120], SCAN_FILL);                  /* after RET: not decoded (a POPF there is INT3 anyway) */
    CHECK(!start_at(120));
    CHECK_EQ(copy[99], SCAN_FILL);                   /* before the entry: untouched */
    CHECK(start_at(100) && start_at(107) && !start_at(101));
}

TEST(scan_follows_branches_not_data)
{
    /* jmp +4 over 4 data bytes (9d 9d 9d 9d); then jz +1 over a data byte; popf; ret */
    static const uint8_t code[] = { 0xeb, 0x04, 0x9d, 0x9d, 0x9d, 0x9d, 0x74, 0x01, 0x9d, 0x9d, 0xc3 };
    setup(0xcc, 0, code, sizeof code);
    struct scan_result r = run(0, 0);
    CHECK_EQ(copy[2], SCAN_FILL);                    /* data after the jump: never decoded */
    CHECK(!start_at(2) && !start_at(3));
    CHECK(start_at(6) && start_at(8) && start_at(9) && start_at(10));
    CHECK_EQ(copy[6], 0x74);
    CHECK_EQ(r.patched, 2);                          /* both POPFs reached by the two paths */
    CHECK_EQ(copy[10], 0xc3);
}

TEST(scan_call_target_and_return_point)
{
    /* call +3; ret; (pad) target: popf; ret */
    static const uint8_t code[] = { 0xe8, 0x03, 0, 0, 0, 0xc3, 0xcc, 0xcc, 0x9d, 0xc3 };
    setup(0xcc, 200, code, sizeof code);
    run(200, 0);
    CHECK(start_at(205));                            /* where the call returns */
    CHECK(start_at(208));                            /* the call's target */
    CHECK_EQ(copy[208], SCAN_FILL);
    CHECK_EQ(copy[209], 0xc3);
    CHECK(!start_at(206));
}

TEST(scan_rescan_from_a_new_entry)
{
    /* ret at 0; a function at 16 reached only indirectly: push cs; ret */
    static const uint8_t code[] = { 0xc3 };
    setup(0x90, 0, code, 1);
    orig[16] = 0x0e; orig[17] = 0xc3;
    run(0, 0);
    CHECK_EQ(copy[16], SCAN_FILL);                   /* not reached: INT3, traps when run */
    struct scan_result r = run(16, 0);               /* the monitor scans from the trap */
    CHECK_EQ(r.patched, 1);
    CHECK_EQ(copy[17], 0xc3);
    CHECK(start_at(0) && start_at(16));
}

TEST(scan_instruction_across_the_page_end)
{
    /* mov eax, imm32 starting 2 bytes before the end: 3 bytes in the next page */
    setup(0x90, SCAN_PAGE - 2, (const uint8_t[]){ 0xb8, 0x11 }, 2);
    static const uint8_t next[SCAN_NEXT] = { 0x22, 0x33, 0x44, 0xc3 };
    struct scan_result r = run(SCAN_PAGE - 2, next);
    CHECK_EQ(r.tail, 3);
    CHECK_EQ(r.tail_at, SCAN_PAGE - 2);
    CHECK_EQ(copy[SCAN_PAGE - 2], 0xb8);
    CHECK_EQ(copy[SCAN_PAGE - 1], 0x11);
    /* Without the next page it is not decoded at all: it stays INT3 with no start, so running it
     * traps and the monitor delivers the guest's fetch fault on the next page. */
    setup(0x90, SCAN_PAGE - 2, (const uint8_t[]){ 0xb8, 0x11 }, 2);
    r = run(SCAN_PAGE - 2, 0);
    CHECK_EQ(r.tail, 0);
    CHECK_EQ(copy[SCAN_PAGE - 2], SCAN_FILL);
    CHECK(!start_at(SCAN_PAGE - 2));
}

TEST(scan_unknown_encoding_is_left_as_is)
{
    /* 0f 0a is undefined here: its bytes stay as they are (the CPU raises #UD) */
    static const uint8_t code[] = { 0x0f, 0x0a, 0x9d, 0xc3 };
    setup(0xcc, 40, code, sizeof code);
    struct scan_result r = run(40, 0);
    CHECK(r.opaque > 0);
    CHECK_EQ(copy[40], 0x0f);
    CHECK_EQ(copy[41], 0x0a);
}

TEST(scan_grp7_register_forms_are_not_sgdt)
{
    /* 0f 01 d0 is XGETBV (register form of reg 2), 0f 01 c8 MONITOR: not sensitive; smsw eax is */
    static const uint8_t code[] = { 0x0f, 0x01, 0xd0, 0x0f, 0x01, 0xe0, 0xc3 };
    setup(0x90, 0, code, sizeof code);
    struct scan_result r = run(0, 0);
    CHECK_EQ(copy[0], 0x0f);
    CHECK_EQ(copy[3], SCAN_FILL);                    /* smsw eax */
    CHECK_EQ(r.patched, 1);
}

TEST(scan_pushf_only_while_iopl_set)
{
    static const uint8_t code[] = { 0x9c, 0xc3 };
    setup(0x90, 0, code, sizeof code);
    scan_pushf = true;
    run(0, 0);
    scan_pushf = false;
    CHECK_EQ(copy[0], SCAN_FILL);
}

TEST(scan_overlap_never_unpatches)
{
    /* b0 9d 9c 58 c3: at 1 `popf; pushf; pop eax; ret`, at 0 `mov al,0x9d` over the POPF. */
    static const uint8_t code[] = { 0xb0, 0x9d, 0x9c, 0x58, 0xc3 };
    setup(0xcc, 0, code, sizeof code);
    run(1, 0);
    CHECK_EQ(copy[1], SCAN_FILL);
    struct scan_result r = run(0, 0);
    CHECK_EQ(r.overlaps, 1);
    CHECK_EQ(copy[1], SCAN_FILL);                    /* the POPF stays patched */
    CHECK_EQ(copy[0], SCAN_FILL);                    /* and the MOV that holds it traps too */
    CHECK(start_at(0) && start_at(1));
}

TEST(scan_overlap_patch_inside_another)
{
    /* b0 9d c3 at 0 (mov al,0x9d; ret) decoded first; then a POPF entry at 1 patches inside it:
     * the MOV must trap at its start as well, never run with an INT3 in its middle. */
    static const uint8_t code[] = { 0xb0, 0x9d, 0xc3 };
    setup(0xcc, 0, code, sizeof code);
    run(0, 0);
    CHECK_EQ(copy[0], 0xb0);
    CHECK_EQ(copy[1], 0x9d);
    run(1, 0);
    CHECK_EQ(copy[1], SCAN_FILL);
    CHECK_EQ(copy[0], SCAN_FILL);
}

TEST(scan_patches_ss_loads_and_fpu_env_not_vex_bytes)
{
    /* mov ss,ax; pop ss; lss esp,[eax]; fnstenv [eax]; fnsave [eax]; fld dword [eax];
     * vmovhps [eax],xmm0 (c5 f8 17 00: read as LDS its 0x17 would be POP SS); ret */
    static const uint8_t code[] = { 0x8e, 0xd0, 0x17, 0x0f, 0xb2, 0x20, 0xd9, 0x30, 0xdd, 0x30, 0xd9, 0x00,
                                    0xc5, 0xf8, 0x17, 0x00, 0xc3 };
    setup(0x90, 0, code, sizeof code);
    struct scan_result r = run(0, 0);
    CHECK_EQ(r.decoded, 8);
    CHECK_EQ(r.patched, 5);
    CHECK_EQ(copy[0], SCAN_FILL);                    /* MOV SS */
    CHECK_EQ(copy[2], SCAN_FILL);                    /* POP SS */
    CHECK_EQ(copy[3], SCAN_FILL);                    /* LSS */
    CHECK_EQ(copy[6], SCAN_FILL);                    /* FNSTENV */
    CHECK_EQ(copy[8], SCAN_FILL);                    /* FNSAVE */
    CHECK_EQ(copy[10], 0xd9);                        /* FLD: copied */
    CHECK(!memcmp(copy + 12, orig + 12, 5));         /* the VEX instruction and RET as they are */
}

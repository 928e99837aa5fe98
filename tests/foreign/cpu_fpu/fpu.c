/* cpu_fpu: x87 arithmetic, CR0.EM/MP/TS/NE, lazy FPU switching through #NM, CR4.OSFXSR and
 * OSXMMEXCPT, SSE, FXSAVE/FXRSTOR, XSAVE/XRSTOR and XCR0. Results are printed as hex. */
#include "rt.h"

#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE (1u << 18)

static u32 leaf1[4];
static u8 area[2][512] __attribute__((aligned(64)));
static u8 xarea[4096] __attribute__((aligned(64)));

static void dump(const char *what, const u8 *p, unsigned n)
{
    say("%s:", what);
    for (unsigned i = 0; i < n; i++) say("%s%02x", i % 4 ? "" : " ", p[n - 1 - i]);
    say("\n");
}

static u16 fstsw(void) { u16 v; __asm__ volatile("fnstsw %0" : "=m"(v)); return v; }
static u16 fstcw(void) { u16 v; __asm__ volatile("fnstcw %0" : "=m"(v)); return v; }
static void fldcw(u16 v) { __asm__ volatile("fldcw %0" :: "m"(v)); }

/* ---- x87 arithmetic ---- */

static void x87(void)
{
    __asm__ volatile("fninit");
    say("fninit: cw %04x sw %04x\n", fstcw(), fstsw());
    u8 env[28];
    __asm__ volatile("fnstenv %0" : "=m"(env));
    dump("fnstenv cw sw tw", env, 12);
    static double mem_operand = 3.0;
    __asm__ volatile("fldl %1\n\tfnstenv %0" : "=m"(env) : "m"(mem_operand));
    dump("fnstenv after fld: fip", env + 12, 4);
    /* FCS (env + 16): cpu_fpu_fcs. */
    dump("fnstenv fdp", env + 20, 4);
    dump("fnstenv fds", env + 24, 4);
    __asm__ volatile("fninit");
    double d;
    long double t;
    __asm__ volatile("fldpi\n\tfld1\n\tfaddp\n\tfstpl %0" : "=m"(d));
    dump("pi+1 double", (u8 *)&d, 8);
    __asm__ volatile("fld1\n\tfldl2t\n\tfdivrp\n\tfstpt %0" : "=m"(t));
    dump("1/log2(10) extended", (u8 *)&t, 10);
    __asm__ volatile("fldpi\n\tfsqrt\n\tfstpl %0" : "=m"(d));
    dump("sqrt(pi)", (u8 *)&d, 8);
    __asm__ volatile("fldl2e\n\tfldln2\n\tfmulp\n\tfstpl %0" : "=m"(d));
    dump("log2(e)*ln(2)", (u8 *)&d, 8);
    int i = 0;
    double seven = 7.0, big = 1e10;
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfprem\n\tfistpl %0\n\tfstp %%st(0)" : "=m"(i) : "m"(seven), "m"(big));
    say("1e10 mod 7 = %d\n", i);
    long long q;
    __asm__ volatile("fldl %1\n\tfchs\n\tfistpll %0" : "=m"(q) : "m"(big));
    say("-1e10 as int64 %08x%08x\n", (u32)((unsigned long long)q >> 32), (u32)q);
    /* Masked exceptions: status flags and the special values. */
    double zero = 0.0, one = 1.0;
    __asm__ volatile("fnclex\n\tfldl %1\n\tfdivl %2\n\tfstpl %0" : "=m"(d) : "m"(one), "m"(zero));
    dump("1/0", (u8 *)&d, 8);
    say("sw after 1/0 %04x\n", fstsw() & 0x3fff);
    __asm__ volatile("fnclex\n\tfldl %1\n\tfdivl %1\n\tfstpl %0" : "=m"(d) : "m"(zero));
    dump("0/0", (u8 *)&d, 8);
    say("sw after 0/0 %04x\n", fstsw() & 0x3fff);
    __asm__ volatile("fnclex\n\tfldl %1\n\tfsqrt\n\tfstpl %0" : "=m"(d) : "m"((double){-2.0}));
    dump("sqrt(-2)", (u8 *)&d, 8);
    say("sw after sqrt(-2) %04x\n", fstsw() & 0x3fff);
    /* Stack overflow: nine loads. */
    __asm__ volatile("fninit\n\t" ".rept 9\n\tfld1\n\t.endr");
    say("sw after 9 pushes %04x\n", fstsw());
    __asm__ volatile("fnstenv %0" : "=m"(env));
    dump("tag word", env + 8, 2);
    __asm__ volatile("fninit");
    /* Rounding control: 2.5 rounded four ways. */
    double two5 = 2.5;
    for (unsigned rc = 0; rc < 4; rc++) {
        fldcw((u16)(0x37f | rc << 10));
        __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(i) : "m"(two5));
        say("rc %u: 2.5 -> %d\n", rc, i);
    }
    __asm__ volatile("fninit");
}

/* ---- #MF with CR0.NE ---- */

static void unmasked_div(void *p)
{
    (void)p;
    double one = 1.0, zero = 0.0, d;
    __asm__ volatile("fninit\n\tfldcw %1\n\tfldl %2\n\tfdivl %3\n\tfstpl %0\n\tfwait"
                     : "=m"(d) : "m"((u16){0x37b}), "m"(one), "m"(zero));
}

static void numeric_errors(void)
{
    wr_cr0(rd_cr0() | CR0_NE);
    int r = try_call(unmasked_div, 0);
    expect_trap("unmasked zero divide", r, 16, 0);
    say("sw at #MF %04x\n", fstsw());
    __asm__ volatile("fninit");
}

/* ---- CR0.EM, MP, TS ---- */

static void fpu_op(void *p) { (void)p; __asm__ volatile("fld1\n\tfstp %%st(0)" ::: "memory"); }
static void fwait_op(void *p) { (void)p; __asm__ volatile("fwait" ::: "memory"); }
static void sse_op(void *p) { (void)p; __asm__ volatile("xorps %%xmm1, %%xmm1\n\taddps %%xmm1, %%xmm1" ::: "memory"); }
static void fxsave_op(void *p) { __asm__ volatile("fxsave (%0)" :: "r"(p) : "memory"); }
static void fxrstor_op(void *p) { __asm__ volatile("fxrstor (%0)" :: "r"(p) : "memory"); }

static void cr0_fpu_bits(void)
{
    u32 cr0 = rd_cr0();
    wr_cr0(cr0 | CR0_EM);
    expect_trap("em: x87", try_call(fpu_op, 0), 7, 0);
    expect_trap("em: fwait", try_call(fwait_op, 0), -1, 0);
    expect_trap("em: sse", try_call(sse_op, 0), 6, 0);
    expect_trap("em: fxsave", try_call(fxsave_op, area[0]), 7, 0);
    wr_cr0(cr0 | CR0_TS);
    expect_trap("ts: x87", try_call(fpu_op, 0), 7, 0);
    expect_trap("ts without mp: fwait", try_call(fwait_op, 0), -1, 0);
    expect_trap("ts: fxsave", try_call(fxsave_op, area[0]), 7, 0);
    wr_cr0(cr0 | CR0_TS | CR0_MP);
    expect_trap("ts mp: fwait", try_call(fwait_op, 0), 7, 0);
    say("cr0 after #NM %08x\n", rd_cr0());
    wr_cr0(cr0 | CR0_MP);
    expect_trap("mp: x87", try_call(fpu_op, 0), -1, 0);
    wr_cr0(cr0);
}

/* ---- SSE and CR4.OSFXSR / OSXMMEXCPT ---- */

static void user_sse(void) { __asm__ volatile("xorps %%xmm2, %%xmm2" ::: "memory"); user_exit(); }

static void sse(void)
{
    u32 cr4 = rd_cr4();
    say("cpuid 1 edx sse %u sse2 %u fxsr %u\n", (leaf1[3] >> 25) & 1, (leaf1[3] >> 26) & 1, (leaf1[3] >> 24) & 1);
    wr_cr4(cr4 & ~(CR4_OSFXSR | CR4_OSXMMEXCPT));
    expect_trap("no osfxsr: sse", try_call(sse_op, 0), 6, 0);
    expect_trap("no osfxsr: ring 3 sse", try_user(user_sse), 6, 0);
    u32 mx = 0;
    wr_cr4(cr4 | CR4_OSFXSR);
    expect_trap("osfxsr: sse", try_call(sse_op, 0), -1, 0);
    expect_trap("osfxsr: ring 3 sse", try_user(user_sse), 0x80, 0);
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    say("mxcsr %08x\n", mx);
    float a[4] = { 1.5f, -2.25f, 1e30f, 3.0f }, b[4] = { 2.0f, 4.0f, 1e30f, 0.5f }, c[4];
    __asm__ volatile("movups %1, %%xmm0\n\tmovups %2, %%xmm1\n\tmulps %%xmm1, %%xmm0\n\tmovups %%xmm0, %0"
                     : "=m"(c) : "m"(a), "m"(b));
    dump("mulps", (u8 *)c, 16);
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    say("mxcsr after mulps %08x\n", mx);
    double da[2] = { 2.0, 3.0 }, dc[2];
    __asm__ volatile("movupd %1, %%xmm0\n\tsqrtpd %%xmm0, %%xmm0\n\tmovupd %%xmm0, %0" : "=m"(dc) : "m"(da));
    dump("sqrtpd", (u8 *)dc, 16);
    /* An unmasked SIMD exception is #XM with CR4.OSXMMEXCPT and #UD without it, by the SDM;
     * QEMU 7.2's TCG raises neither (it only sets the MXCSR flag), so that is not tried. */
    wr_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

/* ---- FXSAVE / FXRSTOR ---- */

static void fxsr(void)
{
    __asm__ volatile("fninit\n\tfldpi\n\tfld1" ::: "memory");
    u32 pattern[4] = { 0x01234567, 0x89abcdef, 0xfedcba98, 0x76543210 };
    u32 mx = 0x1f80 | 0x6000;                           /* round toward zero */
    __asm__ volatile("ldmxcsr %1\n\tmovups %0, %%xmm3" :: "m"(pattern), "m"(mx));
    for (unsigned i = 0; i < 512; i++) area[0][i] = 0xcc;
    expect_trap("fxsave", try_call(fxsave_op, area[0]), -1, 0);
    dump("fxsave fcw fsw ftw fop", area[0], 8);
    dump("fxsave fip fcs", area[0] + 8, 8);
    dump("fxsave fdp fds", area[0] + 16, 8);
    dump("fxsave mxcsr mask", area[0] + 24, 8);
    dump("fxsave st0", area[0] + 32, 10);
    dump("fxsave st1", area[0] + 48, 10);
    dump("fxsave xmm3", area[0] + 160 + 48, 16);
    dump("fxsave bytes 464-467 (untouched)", area[0] + 464, 4);
    __asm__ volatile("fninit\n\txorps %%xmm3, %%xmm3" ::: "memory");
    mx = 0x1f80;
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
    expect_trap("fxrstor", try_call(fxrstor_op, area[0]), -1, 0);
    u32 back[4];
    __asm__ volatile("movups %%xmm3, %0\n\tstmxcsr %1" : "=m"(back), "=m"(mx));
    say("after fxrstor: sw %04x mxcsr %08x xmm3 %08x %08x %08x %08x\n", fstsw(), mx, back[0], back[1], back[2], back[3]);
    __asm__ volatile("fninit");
    expect_trap("fxsave misaligned", try_call(fxsave_op, area[0] + 8), 13, 0);
    /* FXRSTOR of an MXCSR with reserved bits is #GP(0) by the SDM; QEMU's TCG loads it: not tried. */
}

/* ---- lazy FPU switching: two tasks, #NM swaps their state ---- */

static int owner = -1, current;
static unsigned nm_count;

static int nm_handler(struct frame *f)
{
    (void)f;
    __asm__ volatile("clts");
    if (owner != current) {
        if (owner >= 0) __asm__ volatile("fxsave (%0)" :: "r"(area[owner]) : "memory");
        __asm__ volatile("fxrstor (%0)" :: "r"(area[current]) : "memory");
        owner = current;
    }
    nm_count++;
    return 1;
}

static void switch_to(int t) { current = t; wr_cr0(rd_cr0() | CR0_TS); }

static void lazy_fpu(void)
{
    /* Each task's initial state: an empty x87 stack and its own rounding mode. */
    __asm__ volatile("fninit\n\tfldcw %0\n\tfxsave (%1)" :: "m"((u16){0x037f}), "r"(area[0]) : "memory");
    __asm__ volatile("fninit\n\tfldcw %0\n\tfxsave (%1)" :: "m"((u16){0x0f7f}), "r"(area[1]) : "memory");
    set_handler(7, nm_handler);
    int ra[3], rb[3];
    double x = 2.5, y = 3.75;
    switch_to(0);
    __asm__ volatile("fldl %0" :: "m"(x));                  /* task 0: st0 = 2.5 */
    switch_to(1);
    __asm__ volatile("fldl %0" :: "m"(y));                  /* task 1: st0 = 3.75 */
    switch_to(0);
    __asm__ volatile("fld %%st(0)\n\tfistpl %0" : "=m"(ra[0]));   /* nearest: 2 */
    switch_to(1);
    __asm__ volatile("fld %%st(0)\n\tfistpl %0" : "=m"(rb[0]));   /* toward zero: 3 */
    switch_to(0);
    __asm__ volatile("fadd %%st(0), %%st(0)\n\tfld %%st(0)\n\tfistpl %0" : "=m"(ra[1]));   /* 5 */
    __asm__ volatile("fistpl %0" : "=m"(ra[2]));
    switch_to(1);
    __asm__ volatile("fadd %%st(0), %%st(0)\n\tfld %%st(0)\n\tfistpl %0" : "=m"(rb[1]));   /* 7 */
    __asm__ volatile("fistpl %0" : "=m"(rb[2]));
    set_handler(7, 0);
    __asm__ volatile("clts");
    say("task 0: %d %d %d, task 1: %d %d %d, #NM %u\n", ra[0], ra[1], ra[2], rb[0], rb[1], rb[2], nm_count);
    check("lazy fpu results", ra[0] == 2 && ra[1] == 5 && ra[2] == 5 && rb[0] == 3 && rb[1] == 7 && rb[2] == 7);
    expect("#NM count", nm_count, 6);
    __asm__ volatile("fninit");
}

/* ---- XSAVE ---- */

static u64 xgetbv(u32 n) { u32 a, d; __asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(n)); return (u64)d << 32 | a; }
static void xsetbv_op(void *p) { u64 v = *(u64 *)p; __asm__ volatile("xsetbv" :: "c"(0), "a"((u32)v), "d"((u32)(v >> 32))); }
static void xsetbv1_op(void *p) { (void)p; __asm__ volatile("xsetbv" :: "c"(1), "a"(1), "d"(0)); }
static void xgetbv_op(void *p) { (void)p; (void)xgetbv(0); }
static void user_xgetbv(void) { (void)xgetbv(0); user_exit(); }
static void user_xsetbv(void) { __asm__ volatile("xsetbv" :: "c"(0), "a"(3), "d"(0)); user_exit(); }
static void xsave_op(void *p) { __asm__ volatile("xsave (%0)" :: "r"(p), "a"(0xffffffffu), "d"(0xffffffffu) : "memory"); }
static void avx_op(void *p) { (void)p; __asm__ volatile("vxorps %%ymm3, %%ymm3, %%ymm3" ::: "memory"); }
static void xrstor_op(void *p) { __asm__ volatile("xrstor (%0)" :: "r"(p), "a"(0xffffffffu), "d"(0xffffffffu) : "memory"); }

static void xsave(void)
{
    if (!(leaf1[2] & (1u << 26))) { say("no xsave\n"); return; }
    u32 r[4];
    expect_trap("no osxsave: xgetbv", try_call(xgetbv_op, 0), 6, 0);
    wr_cr4(rd_cr4() | CR4_OSXSAVE);
    cpuid(1, 0, r);
    say("osxsave: cpuid 1 ecx %08x\n", r[2]);
    u64 x = xgetbv(0);
    say("xcr0 "); hex64(x); say("\n");
    cpuid(0xd, 0, r);
    say("cpuid d.0 %08x %08x %08x %08x\n", r[0], r[1], r[2], r[3]);
    u64 v = 3;
    expect_trap("xsetbv x87+sse", try_call(xsetbv_op, &v), -1, 0);
    say("xcr0 "); hex64(xgetbv(0)); say("\n");
    cpuid(0xd, 0, r);
    say("cpuid d.0 ebx %08x\n", r[1]);
    v = 2;
    expect_trap("xsetbv without x87", try_call(xsetbv_op, &v), 13, 0);
    v = 5;
    expect_trap("xsetbv avx without sse", try_call(xsetbv_op, &v), 13, 0);
    v = 0x100000003ull;
    expect_trap("xsetbv reserved bit 32", try_call(xsetbv_op, &v), 13, 0);
    expect_trap("xsetbv ecx 1", try_call(xsetbv1_op, 0), 13, 0);
    /* Components that go in pairs or need others (SDM XSETBV), where CPUID has them. */
    if (r[0] & (1u << 3)) {
        v = 0x0b;
        expect_trap("xsetbv bndregs without bndcsr", try_call(xsetbv_op, &v), 13, 0);
        v = 0x13;
        expect_trap("xsetbv bndcsr without bndregs", try_call(xsetbv_op, &v), 13, 0);
        v = 0x1b;
        expect_trap("xsetbv bndregs and bndcsr", try_call(xsetbv_op, &v), -1, 0);
        say("xcr0 "); hex64(xgetbv(0)); say("\n");
    }
    if (r[0] & (1u << 9)) {
        v = 0x203;
        expect_trap("xsetbv pkru", try_call(xsetbv_op, &v), -1, 0);
        say("xcr0 "); hex64(xgetbv(0)); say("\n");
        cpuid(0xd, 0, r);
        say("cpuid d.0 ebx %08x\n", r[1]);
    }
    v = 3;
    try_call(xsetbv_op, &v);
    expect_trap("ring 3 xgetbv", try_user(user_xgetbv), 0x80, 0);
    expect_trap("ring 3 xsetbv", try_user(user_xsetbv), 13, 0);

    __asm__ volatile("fninit\n\tfldl2t" ::: "memory");
    u32 pattern[4] = { 0xa5a5a5a5, 0x5a5a5a5a, 0x11111111, 0x22222222 };
    __asm__ volatile("movups %0, %%xmm5" :: "m"(pattern));
    for (unsigned i = 0; i < sizeof xarea; i++) xarea[i] = 0;
    expect_trap("xsave", try_call(xsave_op, xarea), -1, 0);
    dump("xsave header xstate_bv", xarea + 512, 8);
    dump("xsave fcw fsw ftw", xarea, 6);
    dump("xsave st0", xarea + 32, 10);
    dump("xsave xmm5", xarea + 160 + 80, 16);
    __asm__ volatile("fninit\n\txorps %%xmm5, %%xmm5" ::: "memory");
    expect_trap("xrstor", try_call(xrstor_op, xarea), -1, 0);
    u32 back[4];
    __asm__ volatile("movups %%xmm5, %0" : "=m"(back));
    say("after xrstor: sw %04x xmm5 %08x %08x %08x %08x\n", fstsw(), back[0], back[1], back[2], back[3]);
    expect_trap("xsave misaligned", try_call(xsave_op, xarea + 16), 13, 0);
    xarea[512 + 7] = 0x80;                                  /* a reserved XSTATE_BV bit */
    expect_trap("xrstor bad header", try_call(xrstor_op, xarea), 13, 0);
    __asm__ volatile("fninit");
    v = 1;
    expect_trap("xsetbv x87 only", try_call(xsetbv_op, &v), -1, 0);
    wr_cr4(rd_cr4() & ~CR4_OSXSAVE);
    cpuid(1, 0, r);
    say("no osxsave: cpuid 1 ecx %08x\n", r[2]);
}

/* ---- AVX through XCR0 ---- */

static void avx(void)
{
    u32 r[4];
    if (!(leaf1[2] & (1u << 28)) || !(leaf1[2] & (1u << 26))) { say("no avx\n"); return; }
    wr_cr4(rd_cr4() | CR4_OSXSAVE);
    u64 v = 7;
    expect_trap("xsetbv x87+sse+avx", try_call(xsetbv_op, &v), -1, 0);
    cpuid(0xd, 0, r);
    say("cpuid d.0 with avx: %08x %08x\n", r[0], r[1]);
    float a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8] = { 8, 7, 6, 5, 4, 3, 2, 1 }, c[8];
    __asm__ volatile("vmovups %1, %%ymm0\n\tvmovups %2, %%ymm1\n\tvmulps %%ymm1, %%ymm0, %%ymm2\n\t"
                     "pushf\n\tpopf\n\tvmovups %%ymm2, %0" : "=m"(c) : "m"(a), "m"(b) : "memory");
    dump("vmulps ymm", (u8 *)c, 32);
    /* VEX forms whose bytes, read as LES/LDS and what follows, look like other instructions:
     * 0x17 (POP SS), 0x9d (POPF), 0x8e (MOV Sreg). */
    u32 hi[4] = { 0, 0, 0, 0 }, q[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
    __asm__ volatile("vmovups %1, %%xmm0\n\tvmovhps %%xmm0, (%0)" :: "r"(hi), "m"(q) : "memory");
    say("vmovhps: %08x %08x\n", hi[0], hi[1]);
    __asm__ volatile("vmovups %0, %%xmm1\n\t.byte 0xc4, 0xe1, 0x78, 0x17, 0x08" :: "m"(q), "a"(&hi[2]) : "memory");
    say("vmovhps (3-byte vex): %08x %08x\n", hi[2], hi[3]);
    for (unsigned i = 0; i < sizeof xarea; i++) xarea[i] = 0;
    expect_trap("xsave with avx", try_call(xsave_op, xarea), -1, 0);
    dump("xstate_bv", xarea + 512, 8);
    dump("ymm2 upper half in the avx area", xarea + 576 + 32, 16);
    __asm__ volatile("vzeroall" ::: "memory");
    expect_trap("xrstor with avx", try_call(xrstor_op, xarea), -1, 0);
    __asm__ volatile("vmovups %%ymm2, %0" : "=m"(c) :: "memory");
    dump("ymm2 after xrstor", (u8 *)c, 32);
    v = 1;
    try_call(xsetbv_op, &v);
    expect_trap("avx with xcr0 1", try_call(avx_op, 0), 6, 0);
    wr_cr4(rd_cr4() & ~CR4_OSXSAVE);
}

/* CR0.NE clear: an x87 error raises FERR# (IRQ 13 on a PC) instead of #MF. QEMU 7.2 aborts on
 * it (an assertion in its TCG interrupt path), so that is not tried. */

void tests(void)
{
    say("cpu_fpu: x87, SSE, FXSAVE, XSAVE, lazy FPU switching\n");
    cpuid(1, 0, leaf1);
    say("initial cr0 %08x cr4 %08x\n", rd_cr0(), rd_cr4());
    x87();
    numeric_errors();
    cr0_fpu_bits();
    sse();
    fxsr();
    lazy_fpu();
    xsave();
    avx();
}

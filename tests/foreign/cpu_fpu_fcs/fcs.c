/* cpu_fpu_fcs: the x87 last-instruction and last-operand pointers that FNSTENV and FNSAVE
 * store, in their 32- and 16-bit forms, from ring 0 and ring 3; FNSTENV under CR0.TS. (The
 * guest kernel runs with umbra's CS, RPL 3: the selector stored is made the guest's.) */
#include "rt.h"

static u8 env[108];
static double operand = 3.0;

static void show(const char *what, bool o32)
{
    unsigned cs = o32 ? 16 : 8, ds = o32 ? 24 : 12;
    say("%s: fcs %04x fds %04x cw %04x\n", what, env[cs] | env[cs + 1] << 8, env[ds] | env[ds + 1] << 8,
        env[0] | env[1] << 8);
}

static void user_env(void)
{
    __asm__ volatile("fninit\n\tfldl %1\n\tfnstenv %0" : "=m"(env) : "m"(operand));
    user_exit();
}
static void fnstenv_op(void *p) { (void)p; __asm__ volatile("fnstenv %0" : "=m"(env)); }

void tests(void)
{
    say("cpu_fpu_fcs: the selector of the last x87 instruction\n");
    __asm__ volatile("fninit\n\tfldl %1\n\tfnstenv %0" : "=m"(env) : "m"(operand));
    show("ring 0 fnstenv", true);
    __asm__ volatile("fldcw %0" :: "m"((u16){0x037f}));
    __asm__ volatile("fninit\n\tfldl %1\n\tfnsave %0" : "=m"(env) : "m"(operand));
    show("ring 0 fnsave", true);
    u16 sw;
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    say("after fnsave: sw %04x\n", sw);
    __asm__ volatile("frstor %0" :: "m"(env));
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    say("after frstor: sw %04x\n", sw);
    __asm__ volatile("fninit\n\tfldl %1\n\tdata16 fnstenv %0" : "=m"(env) : "m"(operand));
    show("ring 0 16-bit fnstenv", false);
    __asm__ volatile("fninit\n\tfldl %1\n\tdata16 fnsave %0" : "=m"(env) : "m"(operand));
    show("ring 0 16-bit fnsave", false);
    expect_trap("ring 3", try_user(user_env), 0x80, 0);
    show("ring 3 fnstenv", true);
    wr_cr0(rd_cr0() | (1u << 3));
    expect_trap("fnstenv with ts", try_call(fnstenv_op, 0), 7, 0);
    __asm__ volatile("clts\n\tfninit");
}

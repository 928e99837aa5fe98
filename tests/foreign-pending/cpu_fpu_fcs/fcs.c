/* cpu_fpu_fcs: the x87 last-instruction pointer that FNSTENV and FNSAVE store. Its selector
 * (FCS) is the CS the last x87 instruction ran with: in umbra the guest kernel's real CS,
 * which has RPL 3, where the guest's has RPL 0. */
#include "rt.h"

static u8 env[108];
static double operand = 3.0;

static void user_env(void)
{
    __asm__ volatile("fninit\n\tfldl %1\n\tfnstenv %0" : "=m"(env) : "m"(operand));
    user_exit();
}

void tests(void)
{
    say("cpu_fpu_fcs: the selector of the last x87 instruction\n");
    __asm__ volatile("fninit\n\tfldl %1\n\tfnstenv %0" : "=m"(env) : "m"(operand));
    say("ring 0 fnstenv: fcs %04x fds %04x\n", env[16] | env[17] << 8, env[24] | env[25] << 8);
    __asm__ volatile("fninit\n\tfldl %1\n\tfnsave %0" : "=m"(env) : "m"(operand));
    say("ring 0 fnsave: fcs %04x fds %04x\n", env[16] | env[17] << 8, env[24] | env[25] << 8);
    expect_trap("ring 3", try_user(user_env), 0x80, 0);
    say("ring 3 fnstenv: fcs %04x fds %04x\n", env[16] | env[17] << 8, env[24] | env[25] << 8);
    __asm__ volatile("fninit");
}

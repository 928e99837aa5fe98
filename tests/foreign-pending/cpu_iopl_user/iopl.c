/* cpu_iopl_user: a guest that gives its user mode IOPL 3. The user code runs unscanned on a
 * real CPU whose IOPL is always 0 in umbra: PUSHF there shows IOPL 0 and POPF cannot change IF,
 * where the guest's CPU shows 3 and lets it. */
#include "rt.h"

static u32 seen[4];

static void user_flags(void)
{
    u32 f;
    __asm__ volatile("pushfl\n\tpopl %0" : "=r"(f));
    seen[0] = f & 0x3200;                           /* IOPL, IF */
    __asm__ volatile("pushfl\n\torl $0x200, (%%esp)\n\tpopfl\n\tpushfl\n\tpopl %0" : "=r"(f));
    seen[1] = f & 0x3200;
    __asm__ volatile("pushfl\n\tandl $~0x200, (%%esp)\n\tpopfl\n\tpushfl\n\tpopl %0" : "=r"(f));
    seen[2] = f & 0x3200;
    __asm__ volatile("sti\n\tcli\n\tinb $0x21, %%al\n\tmovzbl %%al, %0" : "=r"(f) :: "eax");
    seen[3] = f;
    user_exit();
}

void tests(void)
{
    say("cpu_iopl_user: IOPL 3 in user mode\n");
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    u32 f;
    __asm__ volatile("pushfl\n\torl $0x3000, (%%esp)\n\tpopfl\n\tpushfl\n\tpopl %0" : "=r"(f));
    say("ring 0 after popf with iopl 3: %04x\n", f & 0x3200);
    user_eflags = 0x3002;
    expect_trap("ring 3", try_user(user_flags), 0x80, 0);
    user_eflags = 0x002;
    say("ring 3 pushf %04x, after popf setting if %04x, clearing it %04x, in from port 21 %02x\n",
        seen[0], seen[1], seen[2], seen[3]);
    __asm__ volatile("pushfl\n\tandl $~0x3000, (%%esp)\n\tpopfl" ::: "memory");
}

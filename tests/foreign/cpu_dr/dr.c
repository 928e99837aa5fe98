/* cpu_dr: the debug registers: MOV to and from DR0-DR7, their fixed bits, the DR4/DR5 aliases
 * and CR4.DE, ring 3. Breakpoints are in tests/foreign-pending/cpu_dr_bp. */
#include "rt.h"

#define CR4_DE (1u << 3)

#define RD_DR(n) ({ u32 v_; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v_)); v_; })
#define WR_DR(n, v) __asm__ volatile("mov %0, %%dr" #n :: "r"((u32)(v)) : "memory")

static void rd_dr4(void *p) { *(u32 *)p = RD_DR(4); }
static void rd_dr5(void *p) { *(u32 *)p = RD_DR(5); }
static void wr_dr4(void *p) { WR_DR(4, *(u32 *)p); }
static void user_rd_dr7(void) { (void)RD_DR(7); user_exit(); }
static void user_wr_dr0(void) { WR_DR(0, 0); user_exit(); }

static void registers(void)
{
    say("initial dr6 %08x dr7 %08x\n", RD_DR(6), RD_DR(7));
    WR_DR(0, 0x12345678); WR_DR(1, 0x9abcdef0); WR_DR(2, 0xffffffff); WR_DR(3, 0x00001001);
    say("dr0-3 %08x %08x %08x %08x\n", RD_DR(0), RD_DR(1), RD_DR(2), RD_DR(3));
    WR_DR(6, 0);
    say("dr6 written 0 reads %08x\n", RD_DR(6));
    WR_DR(6, 0xffffffff);
    say("dr6 written ffffffff reads %08x\n", RD_DR(6));
    WR_DR(6, 0x0000600f);
    say("dr6 written 600f reads %08x\n", RD_DR(6));
    WR_DR(7, 0);
    say("dr7 written 0 reads %08x\n", RD_DR(7));
    WR_DR(7, 0xffff0000);               /* lengths and kinds, nothing enabled */
    say("dr7 written ffff0000 reads %08x\n", RD_DR(7));
    WR_DR(7, 0x00000300);               /* LE GE */
    say("dr7 written 300 reads %08x\n", RD_DR(7));
    WR_DR(7, 0);
    WR_DR(6, 0xffff0ff0);
    u32 v = 0;
    int r = try_call(rd_dr4, &v);
    outcome("no de: mov from dr4", r);
    say("dr4 reads %08x (dr6)\n", v);
    r = try_call(rd_dr5, &v);
    outcome("no de: mov from dr5", r);
    say("dr5 reads %08x (dr7)\n", v);
    v = 0xffff4ff0;
    r = try_call(wr_dr4, &v);
    outcome("no de: mov to dr4", r);
    say("dr6 after writing dr4 %08x\n", RD_DR(6));
    WR_DR(6, 0xffff0ff0);
    wr_cr4(rd_cr4() | CR4_DE);
    expect_trap("de: mov from dr4", try_call(rd_dr4, &v), 6, 0);
    expect_trap("de: mov from dr5", try_call(rd_dr5, &v), 6, 0);
    expect_trap("de: mov to dr4", try_call(wr_dr4, &v), 6, 0);
    wr_cr4(rd_cr4() & ~CR4_DE);
    expect_trap("ring 3 mov from dr7", try_user(user_rd_dr7), 13, 0);
    expect_trap("ring 3 mov to dr0", try_user(user_wr_dr0), 13, 0);
    /* DR7.GD makes the next MOV DR a #DB fault with DR6.BD by the SDM; QEMU's TCG has no GD:
     * not tried. */
}

void tests(void)
{
    say("cpu_dr: debug registers and hardware breakpoints\n");
    registers();
}

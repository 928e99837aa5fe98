/* cpu_dr_bp: hardware breakpoints. An execution breakpoint in DR0 on kernel code, in ring 0
 * and ring 3, and data breakpoints in DR1-DR3 (write, read/write, a 2-byte watch), with the
 * #DB frames and DR6 printed. umbra keeps DR0-DR7 but never arms the real ones, so nothing
 * fires there. */
#include "rt.h"

#define RD_DR(n) ({ u32 v_; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v_)); v_; })
#define WR_DR(n, v) __asm__ volatile("mov %0, %%dr" #n :: "r"((u32)(v)) : "memory")

/* ---- breakpoints ---- */

static u32 db_count, db_dr6[8], db_eip[8], db_cs[8], db_flags[8];
static bool db_clear_dr7;

/* #DB: record it; resume past an instruction breakpoint with RF. */
static int db_handler(struct frame *f)
{
    if (db_count < 8) {
        db_dr6[db_count] = RD_DR(6);
        db_eip[db_count] = f->eip;
        db_cs[db_count] = f->cs;
        db_flags[db_count] = f->eflags & ~0x8d5u;
    }
    db_count++;
    WR_DR(6, 0xffff0ff0);
    if (db_clear_dr7) WR_DR(7, 0);
    f->eflags |= 1u << 16;
    return 1;
}

static void db_report(const char *what)
{
    say("%s: %u #DB\n", what, db_count);
    for (u32 i = 0; i < db_count && i < 8; i++)
        say("  dr6 %08x cs %x eip %x eflags %08x\n", db_dr6[i], db_cs[i], db_eip[i], db_flags[i]);
    db_count = 0;
}

extern char bp_target[], bp_after[], bp_user[], bp_user_target[];
extern void bp_call(void);
extern volatile u32 watch[4];
static void user_bp(void) { bp_call(); user_exit(); }
static void user_write(void) { watch[1] = 5; watch[2] = 6; (void)watch[3]; user_exit(); }

static void breakpoints(void)
{
    set_handler(1, db_handler);
    /* An execution breakpoint on an instruction inside bp_call. */
    WR_DR(0, bp_target);
    WR_DR(7, 0x00000001);              /* L0, execute, length 1 */
    bp_call();
    db_report("dr0 execute, ring 0");
    check("dr0 execute fires", db_eip[0] == (u32)bp_target);
    expect_trap("dr0 execute, ring 3", try_user(user_bp), 0x80, 0);
    db_report("dr0 execute, ring 3");
    WR_DR(7, 0x00000002);              /* G0 */
    bp_call();
    db_report("dr0 execute with g0");
    WR_DR(7, 0);
    bp_call();
    db_report("dr0 disabled");

    /* Data breakpoints: DR1 writes of watch[1] (4 bytes), DR2 reads or writes of watch[2],
     * DR3 writes of watch[3]'s first 2 bytes. */
    WR_DR(1, &watch[1]);
    WR_DR(2, &watch[2]);
    WR_DR(3, &watch[3]);
    WR_DR(7, 0x00000004 | 0x00000010 | 0x00000040 | (0xdu << 20) | (0xfu << 24) | (0x5u << 28));
    say("dr7 %08x\n", RD_DR(7));
    watch[0] = 1;
    (void)watch[1];
    db_report("read of the write-watched word");
    watch[1] = 2;
    db_report("dr1 write");
    (void)watch[2];
    db_report("dr2 read");
    ((volatile u8 *)watch)[13] = 3;
    db_report("dr3 write to its second byte");
    ((volatile u8 *)watch)[14] = 3;
    db_report("write beside dr3's two bytes");
    expect_trap("ring 3 writes", try_user(user_write), 0x80, 0);
    db_report("dr1 dr2 from ring 3");
    u32 v;
    __asm__ volatile("movl $7, %%eax\n\txchgl %%eax, %1" : "=a"(v), "+m"(watch[1]));
    db_report("xchg on dr1's word");
    __asm__ volatile("rep movsb" :: "S"(&watch[0]), "D"(&watch[1]), "c"(8) : "memory");
    db_report("rep movsb over dr1 and dr2");
    WR_DR(7, 0);
    say("watch %x %x %x %x\n", watch[0], watch[1], watch[2], watch[3]);
    db_clear_dr7 = true;
    set_handler(1, 0);
}

void tests(void)
{
    say("cpu_dr_bp: hardware breakpoints\n");
    breakpoints();
}

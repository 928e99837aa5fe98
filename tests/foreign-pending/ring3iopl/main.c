/* ring3iopl: user code (CPL 3) with IOPL 3, where the flags instructions are the user's own:
 * PUSHF shows IOPL 3, POPF and IRET may change IF (SDM POPF/IRET: IF changes when
 * CPL <= IOPL), CLI and STI work. Kept out of tests/foreign: umbra runs guest user code
 * natively at the real IOPL 0, so there PUSHF shows IOPL 0 and POPF/IRET leave IF alone.
 */
#include "kern.h"

uint32_t u_iret_noif(void);

static volatile uint32_t v[8];

static void user(void)
{
    v[0] = u_pushf();                         /* IF 1, IOPL 3 */
    v[1] = u_popf_pushf(0x3002);              /* POPF clears IF */
    v[2] = u_popf_pushf(0x3202);              /* POPF sets it again */
    v[3] = u_iret_noif();                     /* IRET to the same level clears it */
    v[4] = u_popf_pushf(0x0202);              /* IOPL stays 3 at CPL 3 */
    user_exit();
}

int kmain(void);
int kmain(void)
{
    static uint8_t tss[104] __attribute__((aligned(8)));
    puts("ring3iopl: POPF, PUSHF and IRET in ring 3 with IOPL 3\n");
    tables_init();
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    tss_load((uint32_t)tss, 103, 104);
    run_user(user, 3);
    show("PUSHF (IF, IOPL)", v[0] & 0x3200, 4, 0x3200);
    show("PUSHF after POPF clearing IF", v[1] & 0x3200, 4, 0x3000);
    show("PUSHF after POPF setting IF", v[2] & 0x3200, 4, 0x3200);
    show("PUSHF after IRET with IF clear", v[3] & 0x3200, 4, 0x3000);
    show("PUSHF after POPF with IOPL 0 (CPL 3 cannot change it)", v[4] & 0x3200, 4, 0x3200);
    show("flags at INT 80", user_flags & 0x3200, 4, 0x3200);
    puts("failures ");
    dec(failures);
    putc('\n');
    return (int)failures;
}

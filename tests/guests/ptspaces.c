/* Many address spaces: 64 page directories that share the kernel's page tables for the low
 * 16 MiB (global pages, CR4.PGE) and each have a private page at 0x40000000 (and a page shared by all at
 * 0x40001000). The guest switches among them for 20 rounds, checking at every switch that
 * the private page holds what it last wrote there, from ring 0 and now and then from
 * ring 3, and that the shared page is the same everywhere. A monitor that keeps shadows
 * per CR3 must find the right ones again; one that mixes them up shows another space's
 * value. */
#include "tests/guests/lib/paging.h"

#define SPACES 64
#define ROUNDS 20
#define PRIV   0x40000000u
#define SHARED 0x40001000u

static uint32_t *pd[SPACES];
static uint32_t *priv_pte[SPACES];
static uint32_t want[SPACES];
static volatile uint32_t u_seen;

static void user_read(void)
{
    u_seen = peek(PRIV + 8);
    RING0_RETURN();
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    uint32_t *kpd = pg_setup(PTE_P | PTE_W | PTE_U | PTE_G);    /* global, as kernels do */
    uint32_t shared = pg_frame();
    for (unsigned s = 0; s < SPACES; s++) {
        pd[s] = pg_dir();
        for (unsigned i = 0; i < 4; i++) pd[s][i] = kpd[i];      /* the kernel's tables */
        uint32_t page = pg_frame();
        want[s] = 0x5000 + s;
        ((uint32_t *)page)[0] = want[s];
        ((uint32_t *)page)[2] = s;
        pg_map(pd[s], PRIV, page, PTE_P | PTE_W | PTE_U);
        pg_map(pd[s], SHARED, shared, PTE_P | PTE_W | PTE_U);
        priv_pte[s] = pg_slot(pd[s], PRIV, 0);
    }
    wr_cr4(rd_cr4() | CR4_PGE);
    pg_enable(kpd);

    unsigned wrong = 0, wrong_user = 0, wrong_shared = 0, switches = 0, user_checks = 0;
    uint32_t sum = 0;
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned k = 0; k < SPACES; k++) {
            /* Visit the spaces in a different order each round. */
            unsigned s = (k * 37 + r * 11) % SPACES;
            wr_cr3((uint32_t)pd[s]);
            switches++;
            uint32_t v = peek(PRIV);
            if (v != want[s] && wrong++ < 5) gprintf("space %u round %u: private page shows %x, want %x\n", s, r, v, want[s]);
            if (peek(SHARED) != r * SPACES + k && wrong_shared++ < 5)
                gprintf("space %u round %u: shared page shows %x\n", s, r, peek(SHARED));
            sum = sum * 31 + v;
            want[s] = v * 3 + r + 1;
            poke(PRIV, want[s]);
            poke(SHARED, r * SPACES + k + 1);
            if ((r + s) % 8 == 0) {
                run_user(user_read);
                user_checks++;
                if (u_seen != s && wrong_user++ < 5) gprintf("space %u round %u: ring 3 sees %x\n", s, r, u_seen);
            }
        }
        if (r == ROUNDS / 2) {
            /* Halfway: every private page moves to a fresh frame (a copy), with INVLPG for
             * the space that is current and nothing for the others (their CR3 load flushes). */
            for (unsigned s = 0; s < SPACES; s++) {
                uint32_t page = pg_frame();
                memcpy((void *)page, (void *)(*priv_pte[s] & PT32_ADDR_MASK), 16);
                ((uint32_t *)(*priv_pte[s] & PT32_ADDR_MASK))[0] = 0xdead0000 + s;
                *priv_pte[s] = page | PTE_P | PTE_W | PTE_U;
            }
            invlpg(PRIV);
        }
    }
    wr_cr3((uint32_t)kpd);
    check_eq(switches, SPACES * ROUNDS, "address space switches");
    check_eq(wrong, 0, "each private page showed its own last value at every switch");
    check_eq(wrong_shared, 0, "the shared page showed the last value written in any space");
    check_eq(user_checks, SPACES * ROUNDS / 8, "ring 3 reads of the private page");
    check_eq(wrong_user, 0, "ring 3 saw its own space's private page");
    gprintf("ptspaces: checksum %x\n", sum);
    return summary("ptspaces");
}

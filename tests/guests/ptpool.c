/* Many pages: 40 MiB of 4 KiB pages (10240 frames) mapped twice, one page in every four of
 * 160 MiB of linear space (40 page tables each): in order from 0x40000000 by one page
 * directory and in reverse from 0x80000000 by another. The guest
 * writes a tag into every frame through the first mapping, then reads every page through
 * both, three rounds, switching CR3 between them, and at the end reads the frames with
 * paging off. A monitor shadowing this needs many shadow tables: its page pool must be
 * refilled (and, with a small pool, must wait for pages and hand them back); the checks
 * are the data read back. */
#include "tests/guests/lib/paging.h"

#define PAGES  10240u
#define FRAMES 0x1000000u            /* physical 16 MiB up: the data frames */
#define LIN_A  0x40000000u
#define LIN_B  0x80000000u
#define ROUNDS 3
#define STRIDE (4 * PAGE)         /* one page mapped in every four */

/* The tag of frame i and where in the frame it lives. */
static uint32_t tag(uint32_t i) { return (i * 2654435761u) ^ 0x9e000000u; }
static uint32_t off(uint32_t i) { return (i % 1024) * 4; }

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pg_catch();
    pg_frames(0x400000, 0x1000000);
    uint32_t *pa = pg_dir(), *pb = pg_dir();
    pg_identity(pa, 0x1000000, PTE_P | PTE_W);
    for (unsigned i = 0; i < 4; i++) pb[i] = pa[i];
    for (uint32_t i = 0; i < PAGES; i++) {
        pg_map(pa, LIN_A + i * STRIDE, FRAMES + i * PAGE, PTE_P | PTE_W);
        pg_map(pb, LIN_B + i * STRIDE, FRAMES + (PAGES - 1 - i) * PAGE, PTE_P | PTE_W);
    }
    pg_enable(pa);

    for (uint32_t i = 0; i < PAGES; i++) poke(LIN_A + i * STRIDE + off(i), tag(i));
    unsigned wrong = 0, reads = 0;
    for (unsigned r = 0; r < ROUNDS; r++) {
        wr_cr3((uint32_t)pa);
        for (uint32_t i = 0; i < PAGES; i++, reads++) {
            uint32_t v = peek(LIN_A + i * STRIDE + off(i));
            if (v != tag(i) && wrong++ < 5) gprintf("round %u: page %u in order shows %x\n", r, i, v);
        }
        wr_cr3((uint32_t)pb);
        for (uint32_t j = 0; j < PAGES; j++, reads++) {
            uint32_t i = PAGES - 1 - j;
            uint32_t v = peek(LIN_B + j * STRIDE + off(i));
            if (v != tag(i) && wrong++ < 5) gprintf("round %u: page %u in reverse shows %x\n", r, j, v);
        }
    }
    check_eq(wrong, 0, "%u reads through two directories give every frame's tag", reads);
    wr_cr0(rd_cr0() & ~CR0_PG);
    wrong = 0;
    for (uint32_t i = 0; i < PAGES; i++) if (peek(FRAMES + i * PAGE + off(i)) != tag(i)) wrong++;
    check_eq(wrong, 0, "with paging off every frame holds its tag");
    return summary("ptpool");
}

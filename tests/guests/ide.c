/* The IDE primary channel in PIO mode against a 256-sector disk whose sectors carry a known
 * pattern (tests/qemu/t_guests.py makes it): soft reset and the ATA signature, IDENTIFY
 * DEVICE, READ SECTORS of one, several and 256 sectors (count 0), WRITE SECTORS read back,
 * reading past the end, an unknown command, the absent device 1, IRQ14 with nIEN clear and
 * none with it set. Not printed: the model and serial strings, the geometry, and which
 * error bit a range error sets (QEMU aborts, ATA says IDNF). */
#include "tests/guests/lib/guest.h"

#define BASE 0x1f0
#define CTRL 0x3f6
#define NSEC 256u

/* The byte at offset i of sector n of the test image (its first word holds n). */
static uint8_t pattern(uint32_t n, unsigned i)
{
    if (i < 4) return (uint8_t)(n >> (8 * i));
    return (uint8_t)(n * 31 + i * 7 + (i >> 8));
}

static volatile unsigned irqs;
static void on_irq14(struct gframe *f)
{
    (void)f;
    (void)inb(BASE + 7);                       /* acknowledges the device's INTRQ */
    irqs++;
    pic_eoi(14);
}

/* Wait (boundedly) for BSY to clear; the final status. */
static uint8_t wait_ready(void)
{
    uint8_t s = 0x80;
    for (unsigned i = 0; i < 5000000 && (s & 0x80); i++) s = inb(CTRL);
    return s;
}

/* Wait for DRQ or an error; true when DRQ. */
static bool wait_drq(void)
{
    for (unsigned i = 0; i < 5000000; i++) {
        uint8_t s = inb(CTRL);
        if (!(s & 0x80) && (s & 0x09)) return (s & 0x08) != 0;
    }
    return false;
}

/* Wait with interrupts on until irqs reaches n (boundedly). */
static void wait_irqs(unsigned n)
{
    for (unsigned i = 0; i < 5000000 && irqs < n; i++) {
        __asm__ volatile("sti; nop; cli");
        (void)inb(CTRL);
    }
}

static void command(uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(BASE + 6, (uint8_t)(0xe0 | (lba >> 24)));
    outb(BASE + 2, count);
    outb(BASE + 3, (uint8_t)lba);
    outb(BASE + 4, (uint8_t)(lba >> 8));
    outb(BASE + 5, (uint8_t)(lba >> 16));
    outb(BASE + 7, cmd);
}

static uint16_t sector[256];

/* Read one sector's 256 words after DRQ; false if DRQ never came. */
static bool read_sector(void)
{
    if (!wait_drq()) return false;
    __asm__ volatile("rep insw" :: "D"(sector), "c"(256), "d"(BASE) : "memory");
    return true;
}

/* Does the buffer hold sector n of the image? */
static bool is_sector(uint32_t n)
{
    const uint8_t *b = (const uint8_t *)sector;
    for (unsigned i = 0; i < 512; i++) if (b[i] != pattern(n, i)) return false;
    return true;
}

/* READ SECTORS lba..lba+count-1 polled; how many held the expected pattern. */
static unsigned read_check(uint32_t lba, unsigned count)
{
    unsigned good = 0;
    command(lba, (uint8_t)count, 0x20);
    for (unsigned k = 0; k < (count ? count : 256); k++) {
        if (!read_sector()) break;
        good += is_sector(lba + k);
    }
    return good;
}

int gmain(uint32_t magic, uint32_t mbi)
{
    (void)magic; (void)mbi;
    tables_init();
    pic_init();
    set_handler(0x2e, on_irq14, 0, false);

    outb(BASE + 6, 0xa0);                       /* device 0 (the BIOS may have left 1 selected) */
    outb(CTRL, 0x06);                           /* SRST with nIEN */
    outb(CTRL, 0x02);
    uint8_t st = wait_ready();
    check_eq(st & 0xc9, 0x40, "after soft reset: DRDY, not BSY, DRQ or ERR");
    check_eq(inb(BASE + 1), 0x01, "diagnostic code: device 0 passed");
    check(inb(BASE + 2) == 1 && inb(BASE + 3) == 1 && inb(BASE + 4) == 0 && inb(BASE + 5) == 0,
          "ATA signature: count 1, LBA 1, 0, 0");

    outb(BASE + 6, 0xb0);                       /* device 1: absent */
    uint8_t s1 = inb(BASE + 7), a1 = inb(CTRL);
    outb(BASE + 7, 0xec);
    uint8_t s2 = inb(BASE + 7);
    outb(BASE + 6, 0xa0);
    check_eq(s1, 0, "absent device 1: status reads 0");
    check_eq(a1, 0, "absent device 1: alternate status reads 0");
    check_eq(s2, 0, "absent device 1: IDENTIFY ignored");
    check_eq(inb(BASE + 7) & 0x08, 0, "device 0 saw no command");

    outb(BASE + 7, 0xec);
    check(read_sector(), "IDENTIFY DEVICE: data ready");
    check_eq(sector[0] & 0x8000, 0, "IDENTIFY word 0: an ATA device");
    check_eq(sector[49] & 0x0200, 0x0200, "IDENTIFY word 49: LBA supported");
    check_eq(sector[60] | (uint32_t)sector[61] << 16, NSEC, "IDENTIFY words 60-61: LBA28 sectors");
    unsigned printable = 0, letters = 0;
    for (unsigned w = 27; w < 47; w++)
        for (unsigned k = 0; k < 2; k++) {
            uint8_t c = (uint8_t)(sector[w] >> (k ? 0 : 8));
            printable += c >= 0x20 && c < 0x7f;
            letters += c > ' ' && c < 0x7f;
        }
    check(printable == 40 && letters > 0, "IDENTIFY words 27-46: a model string");
    check_eq(wait_ready() & 0x09, 0, "IDENTIFY done: no DRQ, no error");

    check_eq(read_check(0, 1), 1, "READ SECTORS: sector 0");
    check_eq(read_check(5, 4), 4, "READ SECTORS: 4 sectors from 5");
    check_eq(read_check(0, 0), NSEC, "READ SECTORS with count 0: all 256");
    check_eq(wait_ready() & 0x09, 0, "after the reads: no DRQ, no error");

    command(NSEC - 1, 2, 0x20);                 /* runs past the end */
    check(read_sector() && is_sector(NSEC - 1), "reading past the end: the last sector comes");
    st = wait_ready();
    check_eq(st & 0x09, 0x01, "then ERR, no more data");
    command(NSEC, 1, 0x20);
    st = wait_ready();
    check_eq(st & 0x09, 0x01, "reading a sector past the end: ERR, no data");
    outb(BASE + 7, 0xa0);                       /* PACKET: an ATA disk refuses it */
    st = wait_ready();
    check_eq(st & 0x09, 0x01, "PACKET to an ATA disk: ERR");
    check_eq(inb(BASE + 1) & 0x04, 0x04, "PACKET: aborted");

    /* WRITE SECTORS 10-11 with a new pattern; read back, neighbours untouched. */
    command(10, 2, 0x30);
    bool wrote = true;
    for (unsigned k = 0; k < 2; k++) {
        for (unsigned i = 0; i < 256; i++) sector[i] = (uint16_t)(0xc000 + k * 0x100 + i);
        if (!wait_drq()) { wrote = false; break; }
        __asm__ volatile("rep outsw" :: "S"(sector), "c"(256), "d"(BASE) : "memory");
    }
    st = wait_ready();
    check(wrote && !(st & 0x09), "WRITE SECTORS: 2 sectors taken");
    command(10, 2, 0x20);
    unsigned same = 0;
    for (unsigned k = 0; k < 2; k++) {
        if (!read_sector()) break;
        for (unsigned i = 0; i < 256; i++) same += sector[i] == 0xc000 + k * 0x100 + i;
    }
    check_eq(same, 512, "written sectors read back");
    check_eq(read_check(9, 1) + read_check(12, 1), 2, "neighbouring sectors unchanged");

    /* IRQ14: one interrupt per sector read with nIEN clear. */
    pic_mask(0xbffb);
    outb(CTRL, 0x00);
    irqs = 0;
    command(20, 3, 0x20);
    unsigned good = 0;
    for (unsigned k = 0; k < 3; k++) {
        wait_irqs(k + 1);
        __asm__ volatile("rep insw" :: "D"(sector), "c"(256), "d"(BASE) : "memory");
        good += is_sector(20 + k);
    }
    check_eq(irqs, 3, "IRQ14: one interrupt per sector");
    check_eq(good, 3, "IRQ14-driven read: data right");
    irqs = 0;
    command(30, 1, 0x30);
    wait_drq();
    for (unsigned i = 0; i < 256; i++) sector[i] = (uint16_t)i;
    __asm__ volatile("rep outsw" :: "S"(sector), "c"(256), "d"(BASE) : "memory");
    wait_irqs(1);
    check_eq(irqs, 1, "IRQ14 after a written sector");

    /* nIEN set: the same read raises nothing. */
    outb(CTRL, 0x02);
    irqs = 0;
    unsigned got = read_check(40, 2);
    (void)inb(BASE + 7);
    for (unsigned i = 0; i < 1000; i++) { __asm__ volatile("sti; nop; cli"); (void)inb(CTRL); }
    check_eq(got, 2, "polled read with nIEN set");
    check_eq(irqs, 0, "nIEN set: no interrupt");
    pic_mask(0xffff);
    return summary("ide");
}

/* The virtual IDE channel: IDENTIFY, READ and WRITE SECTORS (one and many, LBA28 and CHS),
 * range errors, unknown commands, INTRQ and nIEN, the absent device 1, soft reset. */
#include "tests/unit/unit.h"
#include "supervisor/dev/vide.h"

#define NSEC 64
static uint8_t img[NSEC * SECTOR];

static void fill(void) { for (unsigned i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i / SECTOR * 7 + i); }
static uint8_t rd(struct vide *d, unsigned r) { return (uint8_t)vide_read(d, (uint16_t)(VIDE_BASE + r), 1); }
static void wr(struct vide *d, unsigned r, uint8_t v) { vide_write(d, (uint16_t)(VIDE_BASE + r), 1, v); }

/* Address LBA lba with count n and issue cmd. */
static void lba_cmd(struct vide *d, uint32_t lba, uint8_t n, uint8_t cmd)
{
    wr(d, ATA_DEVICE, (uint8_t)(ATA_DEV_LBA | (lba >> 24)));
    wr(d, ATA_COUNT, n);
    wr(d, ATA_LBA0, (uint8_t)lba); wr(d, ATA_LBA1, (uint8_t)(lba >> 8)); wr(d, ATA_LBA2, (uint8_t)(lba >> 16));
    wr(d, ATA_STATUS, cmd);
}

TEST(vide_identify)
{
    struct vide d;
    fill();
    vide_init(&d, img, NSEC);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(&d, ATA_COUNT), 1);                 /* the ATA signature */
    CHECK_EQ(rd(&d, ATA_LBA1), 0); CHECK_EQ(rd(&d, ATA_LBA2), 0);
    wr(&d, ATA_STATUS, ATA_CMD_IDENTIFY);
    CHECK(vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    CHECK(!vide_irq(&d));                           /* reading status acknowledged it */
    uint16_t w[256];
    for (unsigned i = 0; i < 256; i++) w[i] = (uint16_t)vide_read(&d, VIDE_BASE, 2);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(w[0] & 0x8000, 0);
    CHECK_EQ(w[49] & 0x200, 0x200);
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, NSEC);
    CHECK_EQ(w[27], ('U' << 8) | 'M');               /* "UMBRA VIRTUAL DISK", high byte first */
    CHECK_EQ(w[46], 0x2020);                        /* padded with spaces */
    CHECK_EQ(w[83] & 0x0400, 0);                    /* no LBA48 */
}

TEST(vide_read_many_sectors_lba_and_words_dwords)
{
    struct vide d;
    fill();
    vide_init(&d, img, NSEC);
    lba_cmd(&d, 5, 3, ATA_CMD_READ);
    bool same = true;
    for (unsigned s = 0; s < 3; s++) {
        CHECK(vide_irq(&d));
        CHECK_EQ(rd(&d, ATA_STATUS) & ATA_SR_DRQ, ATA_SR_DRQ);
        for (unsigned i = 0; i < SECTOR; i += 4) {
            uint32_t v = vide_read(&d, VIDE_BASE, s == 1 ? 4 : 2);
            if (s != 1) v |= vide_read(&d, VIDE_BASE, 2) << 16;
            uint32_t want; memcpy(&want, &img[(5 + s) * SECTOR + i], 4);
            same &= v == want;
        }
    }
    CHECK(same);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(rd(&d, ATA_LBA0), 8);                  /* where the transfer got to */
    CHECK_EQ(rd(&d, ATA_COUNT), 0);
    CHECK_EQ(d.reads, 3);
}

TEST(vide_write_sectors_then_read_back_chs)
{
    struct vide d;
    fill();
    vide_init(&d, img, NSEC);
    lba_cmd(&d, 62, 2, ATA_CMD_WRITE);
    CHECK(!vide_irq(&d));                           /* DRQ for the first sector comes without one */
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 256; i++) vide_write(&d, VIDE_BASE, 2, 0xa500 + i);
    CHECK(vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 128; i++) vide_write(&d, VIDE_BASE, 4, 0x11112222u * (i & 7));
    CHECK(vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK_EQ(img[62 * SECTOR + 2], 0x01); CHECK_EQ(img[62 * SECTOR + 3], 0xa5);
    CHECK_EQ(img[63 * SECTOR + 4], 0x22);
    CHECK_EQ(d.writes, 2);
    /* CHS: cylinder 0, head 0, sector 63 is LBA 62 with 16 heads and 63 sectors a track. */
    wr(&d, ATA_DEVICE, 0x00); wr(&d, ATA_COUNT, 1); wr(&d, ATA_LBA0, 63); wr(&d, ATA_LBA1, 0); wr(&d, ATA_LBA2, 0);
    wr(&d, ATA_STATUS, ATA_CMD_READ);
    CHECK_EQ(vide_read(&d, VIDE_BASE, 2), 0xa500);
    wr(&d, ATA_LBA0, 0);                             /* sector 0 does not exist in CHS */
    wr(&d, ATA_STATUS, ATA_CMD_READ);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR);
    CHECK_EQ(rd(&d, ATA_ERROR), ATA_ER_IDNF);
}

TEST(vide_errors_nien_absent_slave_reset)
{
    struct vide d;
    fill();
    vide_init(&d, img, NSEC);
    lba_cmd(&d, 64, 1, ATA_CMD_READ);               /* no such sector */
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR);
    CHECK_EQ(rd(&d, ATA_ERROR), ATA_ER_IDNF);
    lba_cmd(&d, 63, 2, ATA_CMD_READ);               /* runs past the end: 63 comes, then the error */
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ);
    for (unsigned i = 0; i < 256; i++) vide_read(&d, VIDE_BASE, 2);
    CHECK(vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_ERR);
    CHECK_EQ(rd(&d, ATA_ERROR), ATA_ER_IDNF);
    CHECK_EQ(rd(&d, ATA_LBA0), 64); CHECK_EQ(rd(&d, ATA_COUNT), 1);   /* where it failed */
    lba_cmd(&d, 0, 0, ATA_CMD_VERIFY);              /* count 0 is 256 sectors: too many */
    CHECK_EQ(rd(&d, ATA_ERROR), ATA_ER_IDNF);
    lba_cmd(&d, 0, 64, ATA_CMD_VERIFY);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);
    wr(&d, ATA_STATUS, 0xa0);                       /* PACKET: not an ATAPI device */
    CHECK(vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS) & ATA_SR_ERR, ATA_SR_ERR);
    CHECK_EQ(rd(&d, ATA_ERROR), ATA_ER_ABRT);
    vide_write(&d, VIDE_CTRL, 1, ATA_CTL_NIEN);
    wr(&d, ATA_STATUS, ATA_CMD_FLUSH);
    CHECK(!vide_irq(&d));                           /* masked by nIEN */
    vide_write(&d, VIDE_CTRL, 1, 0);
    CHECK(vide_irq(&d));                            /* still pending */
    CHECK_EQ(vide_read(&d, VIDE_CTRL, 1), ATA_SR_DRDY | ATA_SR_DSC);
    CHECK(vide_irq(&d));                            /* alternate status does not acknowledge */
    wr(&d, ATA_DEVICE, ATA_DEV_DEV);                /* device 1: absent */
    CHECK(!vide_irq(&d));
    CHECK_EQ(rd(&d, ATA_STATUS), 0);
    CHECK_EQ(vide_read(&d, VIDE_CTRL, 1), 0);
    wr(&d, ATA_STATUS, ATA_CMD_IDENTIFY);           /* ignored */
    wr(&d, ATA_DEVICE, 0);
    CHECK_EQ(rd(&d, ATA_STATUS) & ATA_SR_DRQ, 0);
    lba_cmd(&d, 1, 1, ATA_CMD_READ);
    vide_write(&d, VIDE_CTRL, 1, ATA_CTL_SRST);
    CHECK_EQ(vide_read(&d, VIDE_CTRL, 1) & ATA_SR_BSY, ATA_SR_BSY);
    vide_write(&d, VIDE_CTRL, 1, 0);
    CHECK_EQ(rd(&d, ATA_STATUS), ATA_SR_DRDY | ATA_SR_DSC);   /* the transfer is gone */
    CHECK_EQ(rd(&d, ATA_ERROR), 0x01);
    CHECK_EQ(rd(&d, ATA_COUNT), 1); CHECK_EQ(rd(&d, ATA_LBA0), 1);
    CHECK_EQ(vide_read(&d, VIDE_BASE, 2), 0);
}

TEST(vide_no_disk_reads_zero)
{
    struct vide d;
    vide_init(&d, NULL, 0);
    for (unsigned r = 0; r < 8; r++) CHECK_EQ(rd(&d, r), 0);
    CHECK_EQ(vide_read(&d, VIDE_CTRL, 1), 0);
    wr(&d, ATA_STATUS, ATA_CMD_IDENTIFY);
    CHECK(!vide_irq(&d));
}

/* The virtual IDE channel: an ATA disk as device 0 in PIO mode, backed by an image in memory.
 *
 * A command runs to completion as it is written (the disk is memory), so BSY is never seen
 * except while SRST is held. Data moves a sector at a time through buf: READ SECTORS loads a
 * sector, sets DRQ and raises INTRQ; the guest reads 256 words; the next sector follows
 * with another interrupt until the count is done. WRITE SECTORS sets DRQ at once; each
 * sector of 256 words the guest writes is stored in the image and raises INTRQ. INTRQ falls
 * when the guest reads the status register or writes a command; it reaches IRQ14 unless
 * nIEN is set or device 1 is selected. Device 1 is absent: as ATA requires, its status
 * reads 0 (device 0 answers for it) and commands to it are ignored. A channel with no
 * image at all reads 0 in every register, as QEMU's PC does with no drive attached. */
#include "supervisor/dev/vide.h"
#include "lib/string.h"

#define HEADS 16
#define SPT   63
#define MAX_CYLS 16383u

/* Is the selected device present? */
static bool present(const struct vide *d) { return d->disk && !(d->device & ATA_DEV_DEV); }

/* The signature and state a reset or diagnostic leaves in the task file. */
static void signature(struct vide *d)
{
    d->count = 1; d->lba0 = 1; d->lba1 = 0; d->lba2 = 0;
    d->device &= ATA_DEV_DEV;
    d->error = 0x01;             /* diagnostic code: device 0 passed, device 1 absent */
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
    d->xfer = XFER_NONE;
}

void vide_init(struct vide *d, uint8_t *disk, uint32_t sectors)
{
    memset(d, 0, sizeof *d);
    d->disk = disk;
    d->sectors = disk ? sectors : 0;
    d->heads = HEADS;
    d->spt = SPT;
    signature(d);
}

bool vide_port(uint16_t port) { return (port >= VIDE_BASE && port <= VIDE_BASE + 7) || port == VIDE_CTRL; }

bool vide_irq(const struct vide *d) { return present(d) && d->irq && !(d->control & ATA_CTL_NIEN); }

/* The command ends: ready, no data, an interrupt. */
static void complete(struct vide *d)
{
    d->status = ATA_SR_DRDY | ATA_SR_DSC;
    d->xfer = XFER_NONE;
    d->irq = true;
}

/* The command fails with error bits err. */
static void fail(struct vide *d, uint8_t err)
{
    complete(d);
    d->status |= ATA_SR_ERR;
    d->error = err;
}

/* The sector address in the task file: LBA28, or CHS through the current translation
 * (false when the CHS address does not exist). */
static bool address(const struct vide *d, uint32_t *lba)
{
    if (d->device & ATA_DEV_LBA) {
        *lba = (uint32_t)(d->device & 0x0f) << 24 | (uint32_t)d->lba2 << 16 | (uint32_t)d->lba1 << 8 | d->lba0;
        return true;
    }
    uint32_t cyl = (uint32_t)d->lba2 << 8 | d->lba1, head = d->device & 0x0f, sector = d->lba0;
    if (!sector || sector > d->spt || head >= d->heads) return false;
    *lba = (cyl * d->heads + head) * d->spt + sector - 1;
    return true;
}

/* Write an address back to the task file (where a transfer has got to). */
static void set_address(struct vide *d, uint32_t lba)
{
    if (d->device & ATA_DEV_LBA) {
        d->lba0 = (uint8_t)lba; d->lba1 = (uint8_t)(lba >> 8); d->lba2 = (uint8_t)(lba >> 16);
        d->device = (uint8_t)((d->device & 0xf0) | ((lba >> 24) & 0x0f));
        return;
    }
    uint32_t cyl = lba / (d->heads * d->spt), rest = lba % (d->heads * d->spt);
    d->lba0 = (uint8_t)(rest % d->spt + 1);
    d->lba1 = (uint8_t)cyl; d->lba2 = (uint8_t)(cyl >> 8);
    d->device = (uint8_t)((d->device & 0xf0) | (rest / d->spt));
}

/* Put an ATA string into IDENTIFY words: space-padded, two characters a word, first high. */
static void id_string(uint16_t *w, unsigned words, const char *s)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < words * 2; i++) {
        uint8_t c = i < n ? (uint8_t)s[i] : ' ';
        if (i & 1) w[i / 2] |= c; else w[i / 2] = (uint16_t)(c << 8);
    }
}

/* The 256 IDENTIFY DEVICE words an ATA-6 PIO disk gives. */
static void identify(struct vide *d)
{
    uint16_t w[256];
    uint32_t lba28 = d->sectors > VIDE_LBA28_MAX ? VIDE_LBA28_MAX : d->sectors;
    uint32_t cyls = d->sectors / (HEADS * SPT);
    if (cyls > MAX_CYLS) cyls = MAX_CYLS;
    uint32_t cur_cyls = d->sectors / (d->heads * d->spt);
    if (cur_cyls > 65535) cur_cyls = 65535;
    uint32_t cur_cap = cur_cyls * d->heads * d->spt;
    memset(w, 0, sizeof w);
    w[0] = 0x0040;                          /* ATA device, fixed */
    w[1] = (uint16_t)cyls; w[3] = HEADS; w[6] = SPT;
    id_string(&w[10], 10, "UMBRA0001");
    id_string(&w[23], 4, "1.0");
    id_string(&w[27], 20, "UMBRA VIRTUAL DISK");
    w[47] = 0x8000;                         /* READ/WRITE MULTIPLE: not supported */
    w[49] = 1u << 9;                        /* LBA supported (no DMA) */
    w[50] = 0x4000;
    w[51] = 0x0200;                         /* PIO timing mode 2 */
    w[53] = 0x0003;                         /* words 54-58 and 64-70 valid */
    w[54] = (uint16_t)cur_cyls; w[55] = d->heads; w[56] = d->spt;
    w[57] = (uint16_t)cur_cap; w[58] = (uint16_t)(cur_cap >> 16);
    w[60] = (uint16_t)lba28; w[61] = (uint16_t)(lba28 >> 16);
    w[64] = 0x0003;                         /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;    /* cycle times, ns */
    w[80] = 0x007e;                         /* ATA-1 to ATA-6 */
    w[82] = 0x4000; w[83] = 0x4000; w[84] = 0x4000;   /* no optional feature sets, no LBA48 */
    w[85] = 0x0000; w[86] = 0x0000; w[87] = 0x4000;
    memcpy(d->buf, w, sizeof w);
    d->pos = 0;
    d->left = 1;
    d->xfer = XFER_IN;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    d->irq = true;
}

/* Load sector lba into buf and offer it to the guest. */
static void offer_sector(struct vide *d)
{
    memcpy(d->buf, d->disk + (uint64_t)d->lba * SECTOR, SECTOR);
    d->pos = 0;
    d->xfer = XFER_IN;
    d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    d->irq = true;
    d->reads++;
}

/* The first sector a READ, WRITE or VERIFY names and its count; false after failing the
 * command when that sector does not exist. Later sectors are checked as the transfer reaches
 * them: like a disk, the sectors before a missing one are moved, then the command fails. */
static bool transfer_start(struct vide *d)
{
    if (!address(d, &d->lba) || d->lba >= d->sectors) {
        fail(d, ATA_ER_IDNF);
        return false;
    }
    d->left = d->count ? d->count : 256u;
    return true;
}

/* Run a command written to the command register. */
static void command(struct vide *d, uint8_t cmd)
{
    d->irq = false;
    d->cmd = cmd;
    d->error = 0;
    switch (cmd) {
    case ATA_CMD_IDENTIFY: identify(d); break;
    case ATA_CMD_READ: case ATA_CMD_READ_NR:
        if (transfer_start(d)) offer_sector(d);
        break;
    case ATA_CMD_WRITE: case ATA_CMD_WRITE_NR:
        if (!transfer_start(d)) break;
        d->pos = 0;
        d->xfer = XFER_OUT;
        d->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;   /* the first sector: no interrupt */
        break;
    case ATA_CMD_VERIFY: case ATA_CMD_VERIFY_NR:
        if (!transfer_start(d)) break;
        if (d->left > d->sectors - d->lba) {
            set_address(d, d->sectors);
            d->count = (uint8_t)(d->left - (d->sectors - d->lba));
            fail(d, ATA_ER_IDNF);
            break;
        }
        set_address(d, d->lba + d->left - 1);
        d->count = 0;
        complete(d);
        break;
    case ATA_CMD_DIAGNOSE:
        signature(d);
        d->irq = true;
        break;
    case ATA_CMD_INIT_PARAMS:
        if (!d->count) { fail(d, ATA_ER_ABRT); break; }
        d->heads = (uint8_t)((d->device & 0x0f) + 1);
        d->spt = d->count;
        complete(d);
        break;
    case ATA_CMD_CHECK_POWER:
        d->count = 0xff;                     /* active or idle */
        complete(d);
        break;
    case ATA_CMD_RECALIBRATE: case ATA_CMD_STANDBY_NOW: case ATA_CMD_IDLE_NOW: case ATA_CMD_FLUSH:
    case ATA_CMD_SET_FEATURES:
        complete(d);
        break;
    default:
        fail(d, ATA_ER_ABRT);
        break;
    }
}

/* A sector has been moved through buf: the next, or the end of the command. */
static void sector_done(struct vide *d)
{
    d->left--;
    d->lba++;
    set_address(d, d->lba);
    d->count = (uint8_t)d->left;
    if (d->left && d->lba >= d->sectors) { fail(d, ATA_ER_IDNF); return; }
    if (d->xfer == XFER_OUT) {
        d->irq = true;
        d->pos = 0;
        if (!d->left) complete(d);
        return;
    }
    if (d->left) offer_sector(d);
    else { d->status = ATA_SR_DRDY | ATA_SR_DSC; d->xfer = XFER_NONE; }
}

/* Move one data word (two bytes) between the guest and buf. */
static uint16_t data_word(struct vide *d, bool write, uint16_t v)
{
    if (d->xfer == XFER_NONE || (write != (d->xfer == XFER_OUT)) || !present(d)) return 0;
    uint16_t r = 0;
    if (write) {
        d->buf[d->pos] = (uint8_t)v; d->buf[d->pos + 1] = (uint8_t)(v >> 8);
    } else {
        r = (uint16_t)(d->buf[d->pos] | d->buf[d->pos + 1] << 8);
    }
    d->pos += 2;
    if (d->pos == SECTOR) {
        if (write) { memcpy(d->disk + (uint64_t)d->lba * SECTOR, d->buf, SECTOR); d->writes++; }
        if (d->cmd == ATA_CMD_IDENTIFY) { d->xfer = XFER_NONE; d->status = ATA_SR_DRDY | ATA_SR_DSC; }
        else sector_done(d);
    }
    return r;
}

uint32_t vide_read(struct vide *d, uint16_t port, unsigned size)
{
    if (port == VIDE_BASE + ATA_DATA) {
        uint32_t v = data_word(d, false, 0);
        if (size == 4) v |= (uint32_t)data_word(d, false, 0) << 16;
        return size == 1 ? (v & 0xff) : v;
    }
    if (!d->disk) return 0;
    switch (port == VIDE_CTRL ? 8 : port - VIDE_BASE) {
    case 8: return present(d) ? d->status : 0;            /* alternate status: no side effect */
    case ATA_STATUS:
        if (!present(d)) return 0;
        d->irq = false;
        return d->status;
    case ATA_ERROR: return present(d) ? d->error : 0;
    case ATA_COUNT: return d->count;
    case ATA_LBA0: return d->lba0;
    case ATA_LBA1: return d->lba1;
    case ATA_LBA2: return d->lba2;
    default: return (uint32_t)(d->device | 0xa0);         /* bits 7 and 5 read as one (obsolete) */
    }
}

void vide_write(struct vide *d, uint16_t port, unsigned size, uint32_t v)
{
    uint8_t b = (uint8_t)v;
    if (port == VIDE_BASE + ATA_DATA) {
        data_word(d, true, (uint16_t)v);
        if (size == 4) data_word(d, true, (uint16_t)(v >> 16));
        return;
    }
    if (port == VIDE_CTRL) {
        bool was = d->control & ATA_CTL_SRST;
        d->control = b;
        if ((b & ATA_CTL_SRST) && !was) { d->status = ATA_SR_BSY | ATA_SR_DSC; d->xfer = XFER_NONE; d->irq = false; }
        if (!(b & ATA_CTL_SRST) && was) { d->heads = HEADS; d->spt = SPT; d->device = 0; signature(d); }
        return;
    }
    switch (port - VIDE_BASE) {
    case ATA_ERROR: d->features = b; break;
    case ATA_COUNT: d->count = b; break;
    case ATA_LBA0: d->lba0 = b; break;
    case ATA_LBA1: d->lba1 = b; break;
    case ATA_LBA2: d->lba2 = b; break;
    case ATA_DEVICE: d->device = b & 0x5f; break;
    case ATA_STATUS:
        if (!d->disk || (d->status & ATA_SR_BSY)) break;
        if (b == ATA_CMD_DIAGNOSE) { command(d, b); break; }   /* both devices run it */
        if (present(d)) command(d, b);
        break;
    default: break;
    }
}

/* The virtual IDE primary channel in PIO mode: one ATA disk as device 0, no device 1. */
#ifndef SUPERVISOR_DEV_VIDE_H
#define SUPERVISOR_DEV_VIDE_H
#include <stdbool.h>
#include <stdint.h>

#define VIDE_BASE 0x1f0          /* command block: data, error/features, count, LBA, device, status/command */
#define VIDE_CTRL 0x3f6          /* alternate status / device control */
#define VIDE_IRQ  14
#define SECTOR    512u

/* Command block registers, offsets from VIDE_BASE. */
enum { ATA_DATA = 0, ATA_ERROR = 1, ATA_COUNT = 2, ATA_LBA0 = 3, ATA_LBA1 = 4, ATA_LBA2 = 5, ATA_DEVICE = 6,
       ATA_STATUS = 7 };

#define ATA_SR_BSY  0x80
#define ATA_SR_DRDY 0x40
#define ATA_SR_DF   0x20
#define ATA_SR_DSC  0x10
#define ATA_SR_DRQ  0x08
#define ATA_SR_ERR  0x01

#define ATA_ER_ABRT 0x04
#define ATA_ER_IDNF 0x10

#define ATA_DEV_DEV 0x10         /* device 1 selected */
#define ATA_DEV_LBA 0x40

#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04

enum ata_cmd {
    ATA_CMD_RECALIBRATE = 0x10, ATA_CMD_READ = 0x20, ATA_CMD_READ_NR = 0x21, ATA_CMD_WRITE = 0x30,
    ATA_CMD_WRITE_NR = 0x31, ATA_CMD_VERIFY = 0x40, ATA_CMD_VERIFY_NR = 0x41, ATA_CMD_DIAGNOSE = 0x90,
    ATA_CMD_INIT_PARAMS = 0x91, ATA_CMD_STANDBY_NOW = 0xe0, ATA_CMD_IDLE_NOW = 0xe1, ATA_CMD_CHECK_POWER = 0xe5,
    ATA_CMD_FLUSH = 0xe7, ATA_CMD_IDENTIFY = 0xec, ATA_CMD_SET_FEATURES = 0xef,
};

#define VIDE_LBA28_MAX 0x0fffffffu

struct vide {
    uint8_t *disk;               /* the image (NULL: no device 0 either) */
    uint32_t sectors;
    /* The task file, written to both devices as on a real channel. */
    uint8_t features, count, lba0, lba1, lba2, device;
    uint8_t status, error, control;
    bool irq;                    /* the device's INTRQ, before nIEN */
    /* The transfer in progress: a sector buffer and where the guest is in it. */
    enum { XFER_NONE, XFER_IN, XFER_OUT } xfer;
    uint8_t cmd;
    uint8_t buf[SECTOR];
    unsigned pos;                /* bytes of buf already moved */
    uint32_t lba;                /* the sector in buf */
    unsigned left;               /* sectors still to move, this one included */
    uint8_t heads, spt;          /* the CHS translation (INITIALIZE DEVICE PARAMETERS) */
    uint32_t reads, writes;      /* sectors moved, for the counters */
};

/* Power-on state; disk of `sectors` sectors (may be NULL: a channel with no devices). */
void vide_init(struct vide *d, uint8_t *disk, uint32_t sectors);
/* Port read of size 1, 2 or 4 at VIDE_BASE..+7 or VIDE_CTRL. */
uint32_t vide_read(struct vide *d, uint16_t port, unsigned size);
/* Port write. */
void vide_write(struct vide *d, uint16_t port, unsigned size, uint32_t v);
/* The level of IRQ14 (INTRQ of the selected device, unless nIEN). */
bool vide_irq(const struct vide *d);
/* Is port one of the channel's? */
bool vide_port(uint16_t port);

#endif

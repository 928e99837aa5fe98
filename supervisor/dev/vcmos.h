/* The virtual CMOS and real-time clock at ports 0x70/0x71 (an MC146818 as PCs have it). */
#ifndef SUPERVISOR_DEV_VCMOS_H
#define SUPERVISOR_DEV_VCMOS_H
#include <stdbool.h>
#include <stdint.h>

#define VCMOS_INDEX 0x70
#define VCMOS_DATA  0x71
#define CMOS_SEC 0x00
#define CMOS_MIN 0x02
#define CMOS_HOUR 0x04
#define CMOS_WDAY 0x06
#define CMOS_DAY 0x07
#define CMOS_MON 0x08
#define CMOS_YEAR 0x09
#define CMOS_A 0x0a
#define CMOS_B 0x0b
#define CMOS_C 0x0c
#define CMOS_D 0x0d
#define CMOS_CENTURY 0x32
#define CMOS_B_24H 0x02
#define CMOS_B_BIN 0x04
#define CMOS_B_PIE 0x40
#define CMOS_B_SET 0x80

struct vcmos {
    uint8_t index;
    uint8_t ram[128];          /* the registers A-D and the battery-backed bytes */
    uint64_t epoch_at_boot;    /* seconds since 1970 at ns == 0 */
    uint64_t set_offset;       /* seconds the guest moved the clock by (SET) */
    int64_t adjust;
};

/* Power-on state: time from epoch (seconds since 1970 at device time 0), the memory sizes a
 * BIOS stores (base 640 KiB, extended above 1 MiB up to 64 MiB, above 16 MiB in 64 KiB). */
void vcmos_init(struct vcmos *c, uint64_t epoch, uint32_t mem_bytes);
uint8_t vcmos_read(struct vcmos *c, uint16_t port, uint64_t now_ns);
void vcmos_write(struct vcmos *c, uint16_t port, uint8_t v, uint64_t now_ns);

#endif

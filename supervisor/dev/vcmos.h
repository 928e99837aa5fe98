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
#define CMOS_ALARM_SEC 0x01
#define CMOS_ALARM_MIN 0x03
#define CMOS_ALARM_HOUR 0x05
#define CMOS_A_RATE 0x0f
#define CMOS_A_DV 0x70
#define CMOS_A_DV_32K 0x20
#define CMOS_B_24H 0x02
#define CMOS_B_BIN 0x04
#define CMOS_B_UIE 0x10
#define CMOS_B_AIE 0x20
#define CMOS_B_PIE 0x40
#define CMOS_B_SET 0x80
#define CMOS_C_UF 0x10
#define CMOS_C_AF 0x20
#define CMOS_C_PF 0x40
#define CMOS_C_IRQF 0x80
#define VCMOS_IRQ 8

struct vcmos {
    uint8_t index;
    uint8_t ram[128];          /* the registers A-D, the clock while SET holds it, the battery-backed bytes */
    uint64_t epoch_at_boot;    /* seconds since 1970 at ns == 0 */
    int64_t adjust;            /* seconds the guest moved the clock by */
    uint8_t wday_shift;        /* days the weekday counter runs ahead of the date's own weekday (0-6) */
    uint64_t pf_tick;          /* the periodic rate's last tick already flagged */
    uint64_t last_sec;         /* the last device second whose update cycle was seen */
};

/* Power-on state: time from epoch (seconds since 1970 at device time 0), the memory sizes a
 * BIOS stores (base 640 KiB, extended above 1 MiB up to 64 MiB, above 16 MiB in 64 KiB). */
void vcmos_init(struct vcmos *c, uint64_t epoch, uint32_t mem_bytes);
uint8_t vcmos_read(struct vcmos *c, uint16_t port, uint64_t now_ns);
void vcmos_write(struct vcmos *c, uint16_t port, uint8_t v, uint64_t now_ns);
/* Bring the flags of register C up to now: PF at the periodic rate, UF and AF at each
 * update cycle (not while SET holds the clock). Returns IRQ8's level: IRQF. */
bool vcmos_update(struct vcmos *c, uint64_t now_ns);
/* IRQ8's level now (register C's IRQF; reading C lowers it). */
bool vcmos_irq(const struct vcmos *c);

#endif

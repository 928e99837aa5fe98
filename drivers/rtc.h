/* The host's CMOS real-time clock, read once at boot. */
#ifndef DRIVERS_RTC_H
#define DRIVERS_RTC_H
#include <stdbool.h>
#include <stdint.h>

struct rtc_time { uint16_t year; uint8_t month, day, hour, minute, second; };

/* Read the date and time (binary, 24-hour) from the CMOS clock. */
void rtc_read(struct rtc_time *t);
/* Seconds since 1970-01-01 of a date and time. */
uint64_t rtc_to_epoch(const struct rtc_time *t);
/* The date and time of seconds since 1970-01-01. */
void rtc_from_epoch(uint64_t secs, struct rtc_time *t);

#endif

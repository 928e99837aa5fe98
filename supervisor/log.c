/* umbra's log: one formatting path, several sinks, and the panic that ends everything. */
#include "supervisor/log.h"
#include "supervisor/config.h"
#include "drivers/serial.h"
#include "drivers/vga.h"
#include "lib/fmt.h"

static unsigned sinks, ready;

void log_set_sinks(unsigned s)
{
    if ((s & LOG_COM1) && !(ready & LOG_COM1) && serial_init(COM1_PORT)) ready |= LOG_COM1;
    if ((s & LOG_COM2) && !(ready & LOG_COM2) && serial_init(COM2_PORT)) ready |= LOG_COM2;
    if ((s & LOG_VGA) && !(ready & LOG_VGA)) { vga_init(); ready |= LOG_VGA; }
    sinks = s & ready;
}

unsigned log_sinks(void) { return sinks; }

/* Write a string to every sink; serial gets CR before LF as terminals want. */
static void log_write(const char *s)
{
    for (; *s; s++) {
        if (sinks & LOG_COM1) { if (*s == '\n') serial_putc(COM1_PORT, '\r'); serial_putc(COM1_PORT, *s); }
        if (sinks & LOG_COM2) { if (*s == '\n') serial_putc(COM2_PORT, '\r'); serial_putc(COM2_PORT, *s); }
        if (sinks & LOG_VGA) vga_putc(*s);
    }
}

void kvprintf(const char *fmt, va_list ap)
{
    char buf[512];
    vsnfmt(buf, sizeof buf, fmt, ap);
    log_write(buf);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    __asm__ volatile("cli");
    log_write("umbra: panic: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    log_write("\n");
    umbra_exit(UMBRA_EXIT_PANIC);
}

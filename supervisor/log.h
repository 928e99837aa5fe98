/* umbra's log: formatted messages to the sinks that log= chose (COM1, COM2, VGA). */
#ifndef SUPERVISOR_LOG_H
#define SUPERVISOR_LOG_H
#include <stdarg.h>

#define LOG_COM1 (1u << 0)
#define LOG_COM2 (1u << 1)
#define LOG_VGA  (1u << 2)

/* Route the log to these sinks (initialising each the first time). */
void log_set_sinks(unsigned sinks);
unsigned log_sinks(void);
/* Print a formatted message to every sink. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Print a message and stop umbra: the onexit action with the panic status. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif

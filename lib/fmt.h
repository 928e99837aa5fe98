/* printf-style formatting into a buffer: %d %u %x %X %p %s %c, l/ll, width, precision for %s, 0 and - flags. */
#ifndef LIB_FMT_H
#define LIB_FMT_H
#include <stdarg.h>
#include <stddef.h>

int vsnfmt(char *buf, size_t size, const char *fmt, va_list ap);
int snfmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* Freestanding memory and string routines. GCC also calls these for struct copies. */
#include "lib/string.h"
#include <stdint.h>

/* Whole words with REP STOSL/MOVSL where the pointers allow (a page is cleared or copied in
 * one instruction, not 4096 loop rounds), the odd bytes one at a time. */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    if (n >= 16 && !((uintptr_t)p & 3)) {
        size_t words = n / 4;
        __asm__ volatile("rep stosl" : "+D"(p), "+c"(words) : "a"((uint32_t)(unsigned char)c * 0x01010101u) : "memory");
        n &= 3;
    }
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (n >= 16 && !(((uintptr_t)dp | (uintptr_t)sp) & 3)) {
        size_t words = n / 4;
        __asm__ volatile("rep movsl" : "+D"(dp), "+S"(sp), "+c"(words) :: "memory");
        n &= 3;
    }
    while (n--) *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp || dp >= sp + n) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
        if (!*a) return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return 0;
    }
}

/* What the benchmark guests share: the TSC, their command line (n=N only=a,b) and the one
 * line each benchmark prints, "bench NAME OPS CYCLES" with fixed-width numbers, so that a run
 * with n=0 prints exactly as many bytes as a real one and tools/bench.py can subtract its
 * traps (setup and printing) from the real run's. */
#ifndef BENCH_H
#define BENCH_H
#include "tests/guests/lib/guest.h"

static unsigned n = 10000;                 /* repetitions; each benchmark says what it does with them */
static const char *only = "";              /* the benchmarks to run, "a,b"; all when empty */
static volatile uint32_t sink;             /* results nothing reads, so the loops stay */

static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }

/* Compare k bytes. */
static inline int same(const char *a, const char *b, unsigned k)
{
    for (; k; k--, a++, b++) if (*a != *b) return 0;
    return 1;
}

/* Is name among the selected benchmarks (all when none were named)? */
static inline bool wanted(const char *name)
{
    if (!*only) return true;
    unsigned len = strlen(name);
    for (const char *p = only; *p;) {
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') e++;
        if ((unsigned)(e - p) == len && same(p, name, len)) return true;
        if (*e != ',') break;
        p = e + 1;
    }
    return false;
}

/* Print a benchmark's figure: ops repetitions took cycles in all. */
static inline void report(const char *name, unsigned ops, uint64_t cycles)
{
    gprintf("bench %s %10u %10u\n", name, ops, (uint32_t)(cycles / (ops ? ops : 1)));
}

/* A benchmark found a wrong result: say which and end with status 1 (the runner stops). */
static inline __attribute__((noreturn)) void bench_fail(const char *name, const char *what)
{
    gprintf("bench %s failed: %s\n", name, what);
    gexit(1);
}

/* Parse n= and only= from the Multiboot command line. */
static inline void bench_args(uint32_t mbi)
{
    const char *c = (const char *)((const uint32_t *)mbi)[4];
    for (; *c; c++) {
        if (c[0] == ' ' && c[1] == 'n' && c[2] == '=') { n = 0; for (c += 3; *c >= '0' && *c <= '9'; c++) n = n * 10 + (unsigned)(*c - '0'); c--; }
        else if (c[0] == ' ' && same(c + 1, "only=", 5)) only = c + 6;
    }
}

#endif

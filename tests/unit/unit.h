/* A small host-side unit-test runner: TEST() registers, CHECK() records, main runs all. */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

struct unit_test { const char *name; void (*fn)(void); struct unit_test *next; };
void unit_register(struct unit_test *t);
extern int unit_failed_checks;
void unit_fail(const char *file, int line, const char *expr);

#define TEST(name) \
    static void test_##name(void); \
    static struct unit_test unit_##name = { #name, test_##name, 0 }; \
    __attribute__((constructor)) static void reg_##name(void) { unit_register(&unit_##name); } \
    static void test_##name(void)

#define CHECK(e) do { if (!(e)) unit_fail(__FILE__, __LINE__, #e); } while (0)
#define CHECK_EQ(a, b) do { \
    unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
    if (_a != _b) { char _m[256]; snprintf(_m, sizeof _m, "%s == %s (0x%llx != 0x%llx)", #a, #b, _a, _b); \
        unit_fail(__FILE__, __LINE__, _m); } } while (0)

#endif

/* Runs every registered unit test; one line per failure, then the totals. */
#include "tests/unit/unit.h"
#include <stdlib.h>

static struct unit_test *head, **tail = &head;
int unit_failed_checks;

void unit_register(struct unit_test *t) { *tail = t; tail = &t->next; }

void unit_fail(const char *file, int line, const char *expr)
{
    unit_failed_checks++;
    if (unit_failed_checks <= 200) printf("  %s:%d: check failed: %s\n", file, line, expr);
}

int main(int argc, char **argv)
{
    int ok = 0, bad = 0;
    const char *only = argc > 1 ? argv[1] : 0;
    for (struct unit_test *t = head; t; t = t->next) {
        if (only && !strstr(t->name, only)) continue;
        int before = unit_failed_checks;
        t->fn();
        if (unit_failed_checks == before) { ok++; printf("PASS unit/%s\n", t->name); }
        else { bad++; printf("FAIL unit/%s\n", t->name); }
    }
    printf("unit tests: %d ok, %d bad\n", ok, bad);
    return bad ? 1 : 0;
}

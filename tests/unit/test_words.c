/* Command-line words and number parsing. */
#include "tests/unit/unit.h"
#include "lib/words.h"
#include "lib/fmt.h"

TEST(words_split)
{
    const char *cur = "  /boot/umbra.elf log=com1,vga  onexit=qemu bare ";
    struct word w;
    CHECK(word_next(&cur, &w));
    CHECK(span_is(w.text, w.len, "/boot/umbra.elf") && !w.val);
    CHECK(word_next(&cur, &w));
    CHECK(word_key_is(&w, "log") && span_is(w.val, w.vallen, "com1,vga"));
    const char *s = w.val, *item; size_t n;
    CHECK(list_next(&s, w.val + w.vallen, &item, &n) && span_is(item, n, "com1"));
    CHECK(list_next(&s, w.val + w.vallen, &item, &n) && span_is(item, n, "vga"));
    CHECK(!list_next(&s, w.val + w.vallen, &item, &n));
    CHECK(word_next(&cur, &w) && word_key_is(&w, "onexit"));
    CHECK(word_next(&cur, &w) && word_key_is(&w, "bare") && !w.val);
    CHECK(!word_next(&cur, &w));
}

TEST(words_sizes)
{
    uint64_t v;
    CHECK(parse_size("32M", 3, &v) && v == 32u << 20);
    CHECK(parse_size("4096", 4, &v) && v == 4096);
    CHECK(parse_size("1G", 2, &v) && v == 1u << 30);
    CHECK(parse_size("64k", 3, &v) && v == 64u << 10);
    CHECK(!parse_size("", 0, &v));
    CHECK(!parse_size("M", 1, &v));
    CHECK(!parse_size("12Q", 3, &v));
    CHECK(!parse_size("12MB", 4, &v));
    CHECK(!parse_size("99999999999999999", 17, &v));
    uint32_t u;
    CHECK(parse_u32("0x3f8", 5, &u) && u == 0x3f8);
    CHECK(parse_u32("17", 2, &u) && u == 17);
    CHECK(!parse_u32("0x", 2, &u));
    CHECK(!parse_u32("4294967296", 10, &u));
    CHECK(parse_ms("50ms", 4, &u) && u == 50);
    CHECK(parse_ms("5s", 2, &u) && u == 5000);
    CHECK(parse_ms("0ms", 3, &u) && u == 0);
    CHECK(!parse_ms("50", 2, &u));
    CHECK(!parse_ms("ms", 2, &u));
    CHECK(!parse_ms("s", 1, &u));
    CHECK(!parse_ms("0x10ms", 6, &u));
    CHECK(!parse_ms("5 s", 3, &u));
    CHECK(!parse_ms("4294968s", 8, &u));
}

TEST(fmt_basic)
{
    char b[64];
    snfmt(b, sizeof b, "%d|%u|%x|%08x|%s|%c|%5d|%-4s|%llx", -5, 7u, 0xabu, 0x1fu, "hi", 'z', 42, "ab",
          0x123456789ull);
    CHECK(!strcmp(b, "-5|7|ab|0000001f|hi|z|   42|ab  |123456789"));
    snfmt(b, sizeof b, "[%.*s|%.2s|%-4.1s]", 3, "abcdef", "xyz", "q");
    CHECK(!strcmp(b, "[abc|xy|q   ]"));
    CHECK_EQ(snfmt(b, 4, "%s", "hello"), 5);
    CHECK(!strcmp(b, "hel"));
}

/* Command-line words: `key=value` tokens, comma lists and sizes such as 32M. */
#ifndef LIB_WORDS_H
#define LIB_WORDS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One word of a command line; val is NULL when the word has no '='. */
struct word {
    const char *key; size_t keylen;
    const char *val; size_t vallen;
    const char *text; size_t len;   /* the whole word */
};

/* Read the next space-separated word at *cur into w; false at the end. */
bool word_next(const char **cur, struct word *w);
/* True when the word's key is exactly `key`. */
bool word_key_is(const struct word *w, const char *key);
/* True when [s, s+len) equals the NUL-terminated string `lit`. */
bool span_is(const char *s, size_t len, const char *lit);
/* Read the next comma-separated item of [*s, end) into item/ilen; false at the end. */
bool list_next(const char **s, const char *end, const char **item, size_t *ilen);
/* Parse a byte size: digits with an optional K, M or G suffix (binary units). */
bool parse_size(const char *s, size_t len, uint64_t *out);
/* Parse a decimal (or 0x hex) unsigned number that fits in 32 bits. */
bool parse_u32(const char *s, size_t len, uint32_t *out);
/* Parse a time in milliseconds: decimal digits with an ms or s suffix (500ms, 5s). */
bool parse_ms(const char *s, size_t len, uint32_t *out);

#endif

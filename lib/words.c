/* Command-line words: tokenizing and number parsing, shared by umbra's and each guest's settings. */
#include "lib/words.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool word_next(const char **cur, struct word *w)
{
    const char *p = *cur;
    while (*p && is_space(*p)) p++;
    if (!*p) { *cur = p; return false; }
    const char *start = p;
    while (*p && !is_space(*p)) p++;
    w->text = start;
    w->len = (size_t)(p - start);
    w->key = start;
    w->val = 0;
    w->vallen = 0;
    w->keylen = w->len;
    for (const char *q = start; q < p; q++) {
        if (*q == '=') {
            w->keylen = (size_t)(q - start);
            w->val = q + 1;
            w->vallen = (size_t)(p - q - 1);
            break;
        }
    }
    *cur = p;
    return true;
}

bool span_is(const char *s, size_t len, const char *lit)
{
    size_t i = 0;
    for (; i < len; i++)
        if (lit[i] != s[i]) return false;
    return lit[i] == 0;
}

bool word_key_is(const struct word *w, const char *key)
{
    return span_is(w->key, w->keylen, key);
}

bool list_next(const char **s, const char *end, const char **item, size_t *ilen)
{
    const char *p = *s;
    if (p >= end) return false;
    const char *start = p;
    while (p < end && *p != ',') p++;
    *item = start;
    *ilen = (size_t)(p - start);
    *s = p < end ? p + 1 : p;
    return true;
}

bool parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (!len) return false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (1ull << 40)) return false;
    }
    if (i == 0) return false;
    if (i < len) {
        unsigned shift;
        switch (s[i]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: return false;
        }
        if (i + 1 != len) return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

bool parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    size_t i = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; i = 2; }
    if (i == len) return false;
    for (; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return false;
        v = v * base + d;
        if (v > 0xffffffffull) return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool parse_ms(const char *s, size_t len, uint32_t *out)
{
    uint32_t v, scale;
    if (len > 2 && s[len - 2] == 'm' && s[len - 1] == 's') { len -= 2; scale = 1; }
    else if (len > 1 && s[len - 1] == 's') { len -= 1; scale = 1000; }
    else return false;
    for (size_t i = 0; i < len; i++) if (s[i] < '0' || s[i] > '9') return false;
    if (!parse_u32(s, len, &v) || (uint64_t)v * scale > 0xffffffffull) return false;
    *out = v * scale;
    return true;
}

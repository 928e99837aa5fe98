/* Turning a Multiboot module into a guest: decode (settings, ELF, Multiboot header: every
 * check, nothing changed), then perform (copy segments, zero BSS, write the Multiboot info). */
#include "supervisor/guestload.h"
#include "supervisor/bootinfo.h"
#include "supervisor/firmware.h"
#include "boot/multiboot.h"
#include "arch/x86/mmu.h"
#include "lib/words.h"
#include "lib/string.h"
#include "lib/fmt.h"

#define DEFAULT_MEM (32u << 20)
#define MIN_MEM     (2u << 20)

bool module_is_guest(const char *string)
{
    struct word w;
    const char *cur = string;
    while (word_next(&cur, &w)) {
        if (span_is(w.text, w.len, "--")) break;
        if (word_key_is(&w, "vm")) return true;
    }
    return false;
}

bool module_owner(const char *string, char *name, unsigned size)
{
    struct word w;
    const char *cur = string;
    while (word_next(&cur, &w)) {
        if (span_is(w.text, w.len, "--")) break;
        if (word_key_is(&w, "for") && w.val && w.vallen && w.vallen < size) {
            memcpy(name, w.val, w.vallen);
            name[w.vallen] = 0;
            return true;
        }
    }
    return false;
}

/* Where the Multiboot info's module list and strings go: the first page after the image, as
 * QEMU's loader places them (its modules follow them, page-aligned). */
static uint32_t info_top(const struct kimage *k)
{
    uint32_t base = k->low & ~(PAGE_SIZE - 1);
    return base + (uint32_t)PAGE_ALIGN_UP(k->high - base);
}

bool guest_modules(const char *vm, const struct kimage *k, uint64_t mem, struct gmod *mods, unsigned *n,
                   char *why, unsigned whylen)
{
    char owner[16];
    /* The list and its strings take less than a page (8 module strings of 128 bytes, a command
     * line of 256); the modules follow. */
    uint64_t at = info_top(k) + PAGE_SIZE;
    *n = 0;
    for (size_t i = 0; i < boot.nmods; i++) {
        const struct boot_module *b = &boot.mods[i];
        if (!module_owner(b->string, owner, sizeof owner) || strcmp(owner, vm)) continue;
        if (*n == GUEST_MAX_MODS) { snfmt(why, whylen, "more than %u modules", GUEST_MAX_MODS); return false; }
        struct gmod *g = &mods[(*n)++];
        g->data = (const uint8_t *)b->start;
        g->size = b->end - b->start;
        at += PAGE_ALIGN_UP(g->size);
        if (at > mem) {
            snfmt(why, whylen, "its module '%s' does not fit in its %u MiB above the kernel", b->string,
                  (unsigned)(mem >> 20));
            return false;
        }
        /* The guest sees the module's string without the for= word. */
        struct word w;
        const char *cur = b->string;
        g->string[0] = 0;
        size_t len = 0;
        while (word_next(&cur, &w)) {
            if (word_key_is(&w, "for")) continue;
            for (size_t c = 0; c <= w.len && len + 1 < sizeof g->string; c++)
                g->string[len++] = c < w.len ? w.text[c] : ' ';
        }
        if (len && g->string[len - 1] == ' ') len--;
        g->string[len] = 0;
    }
    return true;
}

bool module_is_named(const char *string, const char *path)
{
    struct word w;
    const char *cur = string;
    return word_next(&cur, &w) && !w.val && span_is(w.text, w.len, path);
}

bool guest_disk(const struct vm_settings *set, uint8_t **data, uint32_t *sectors, char *why, unsigned whylen)
{
    *data = 0;
    *sectors = 0;
    if (!set->disk[0]) return true;
    for (size_t i = 0; i < boot.nmods; i++) {
        const struct boot_module *b = &boot.mods[i];
        if (module_is_guest(b->string) || !module_is_named(b->string, set->disk)) continue;
        uint32_t size = b->end - b->start;
        if (!size || size % 512) {
            snfmt(why, whylen, "disk=%s: its %u bytes are not a whole number of 512-byte sectors", set->disk, size);
            return false;
        }
        *data = (uint8_t *)b->start;
        *sectors = size / 512;
        return true;
    }
    snfmt(why, whylen, "disk=%s: no boot module is named %s", set->disk, set->disk);
    return false;
}

/* Append a word to the guest's command line, one space after what is there, keeping it
 * NUL-terminated. */
static void cmd_append(struct vm_settings *set, const char *s, size_t n)
{
    size_t len = strlen(set->cmdline);
    if (len && set->cmdline[len - 1] != ' ' && len + 1 < sizeof set->cmdline) set->cmdline[len++] = ' ';
    for (size_t i = 0; i < n && len + 1 < sizeof set->cmdline; i++) set->cmdline[len++] = s[i];
    set->cmdline[len] = 0;
}

/* The command line starts with the image's path and a space, even with no words after it:
 * what QEMU's loader makes of -kernel PATH -append WORDS, so a guest sees the same line. */
static void cmd_path(struct vm_settings *set, const char *s, size_t n)
{
    cmd_append(set, s, n);
    cmd_append(set, "", 0);
}

/* pt=shadow|vtlb, pt.write=emulate|singlestep, pt.protect=ro|us; false with the reason. */
static bool parse_pt_choice(const struct word *w, struct pt_settings *pt, char *why, unsigned whylen)
{
    static const char *const names[3][2] = { { "shadow", "vtlb" }, { "emulate", "singlestep" }, { "ro", "us" } };
    unsigned k = word_key_is(w, "pt") ? 0 : word_key_is(w, "pt.write") ? 1 : 2;
    for (unsigned i = 0; i < 2; i++) {
        if (!span_is(w->val, w->vallen, names[k][i])) continue;
        if (k == 0) pt->engine = (uint8_t)i; else if (k == 1) pt->write = (uint8_t)i; else pt->protect = (uint8_t)i;
        return true;
    }
    snfmt(why, whylen, "%.*s: expected %s or %s", (int)w->len, w->text, names[k][0], names[k][1]);
    return false;
}

bool guest_parse(const char *string, struct vm_settings *set, char *why, unsigned whylen)
{
    struct word w;
    const char *cur = string;
    bool first = true, named = false, rest = false;
    memset(set, 0, sizeof *set);
    set->mem = DEFAULT_MEM;
    set->pool_min = 16;
    set->pool_max = 128;
    set->pt = (struct pt_settings){ PT_SHADOW, PT_WRITE_EMULATE, PT_PROTECT_RO, 8, PT_ROOTS_MAX };
    while (word_next(&cur, &w)) {
        bool was_first = first;
        first = false;
        if (rest) { cmd_append(set, w.text, w.len); continue; }
        if (span_is(w.text, w.len, "--")) { rest = true; continue; }
        if (was_first && !w.val) { cmd_path(set, w.text, w.len); continue; }   /* the image path */
        if (!w.val) { snfmt(why, whylen, "'%.*s' is not a setting (key=value; words for the guest go after --)", (int)w.len, w.text); return false; }
        if (word_key_is(&w, "vm")) {
            if (!w.vallen || w.vallen >= sizeof set->name) { snfmt(why, whylen, "vm= needs a name of 1 to 15 characters"); return false; }
            memcpy(set->name, w.val, w.vallen);
            set->name[w.vallen] = 0;
            named = true;
        } else if (word_key_is(&w, "mem")) {
            if (!parse_size(w.val, w.vallen, &set->mem) || set->mem < MIN_MEM || set->mem % PAGE_SIZE) {
                snfmt(why, whylen, "mem=%.*s: expected a size such as 64M, at least 2M, in whole pages", (int)w.vallen, w.val);
                return false;
            }
        } else if (word_key_is(&w, "screen")) {
            if (span_is(w.val, w.vallen, "log")) set->screen_log = true;
            else if (span_is(w.val, w.vallen, "none")) set->screen_log = false;
            else { snfmt(why, whylen, "screen=%.*s: expected log or none", (int)w.vallen, w.val); return false; }
        } else if (word_key_is(&w, "scan")) {
            if (span_is(w.val, w.vallen, "on")) set->scan = SCAN_ON;
            else if (span_is(w.val, w.vallen, "off")) set->scan = SCAN_OFF;
            else { snfmt(why, whylen, "scan=%.*s: expected on or off", (int)w.vallen, w.val); return false; }
        } else if (word_key_is(&w, "disk")) {
            if (!w.vallen || w.vallen >= sizeof set->disk) { snfmt(why, whylen, "disk= needs a module path of 1 to 127 characters"); return false; }
            memcpy(set->disk, w.val, w.vallen);
            set->disk[w.vallen] = 0;
        } else if (word_key_is(&w, "pool.min") || word_key_is(&w, "pool.max")) {
            uint32_t v;
            if (!parse_u32(w.val, w.vallen, &v) || v > MON_POOL_SLOTS) {
                snfmt(why, whylen, "%.*s: expected a number of pages up to %u", (int)w.len, w.text, MON_POOL_SLOTS);
                return false;
            }
            if (w.key[5] == 'm' && w.key[6] == 'i') set->pool_min = v; else set->pool_max = v;
        } else if (word_key_is(&w, "pt") || word_key_is(&w, "pt.write") || word_key_is(&w, "pt.protect")) {
            if (!parse_pt_choice(&w, &set->pt, why, whylen)) return false;
        } else if (word_key_is(&w, "pt.prefault") || word_key_is(&w, "pt.roots")) {
            uint32_t v;
            bool roots = word_key_is(&w, "pt.roots");
            uint32_t lo = roots ? 1 : 0, hi = roots ? PT_ROOTS_MAX : PT_PREFAULT_MAX;
            if (!parse_u32(w.val, w.vallen, &v) || v < lo || v > hi) {
                snfmt(why, whylen, "%.*s: expected a number from %u to %u", (int)w.len, w.text, lo, hi);
                return false;
            }
            if (roots) set->pt.roots = (uint8_t)v; else set->pt.prefault = (uint8_t)v;
        } else if (word_key_is(&w, "stop-after")) {
            if (!parse_ms(w.val, w.vallen, &set->stop_after_ms) || !set->stop_after_ms || set->stop_after_ms > 86400000u) {
                snfmt(why, whylen, "stop-after=%.*s: expected a time such as 5s or 500ms, at most a day",
                      (int)w.vallen, w.val);
                return false;
            }
        } else {
            snfmt(why, whylen, "unknown setting '%.*s' (settings: vm= mem= disk= screen= pool.min= pool.max= pt= "
                  "pt.write= pt.protect= pt.prefault= pt.roots= scan= stop-after=; guest words go after --)",
                  (int)w.len, w.text);
            return false;
        }
    }
    if (!named) { snfmt(why, whylen, "no vm= name"); return false; }
    if (set->scan == SCAN_ON && set->pt.engine != PT_SHADOW) {
        snfmt(why, whylen, "scan=on needs pt=shadow (the code window lives in the shadow engine's kernel view)");
        return false;
    }
    if (set->pool_min > set->pool_max) { snfmt(why, whylen, "pool.min=%u is above pool.max=%u", set->pool_min, set->pool_max); return false; }
    return true;
}

/* Copy n bytes (zeros when src is NULL) into guest-physical memory, page by page. */
static void put_guest(void *ctx, uint32_t gpa, const void *src, uint32_t n)
{
    struct vm *vm = ctx;
    const uint8_t *s = src;
    while (n) {
        uint32_t chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > n) chunk = n;
        if (s) memcpy(vm_gpa(vm, gpa), s, chunk), s += chunk;
        else memset(vm_gpa(vm, gpa), 0, chunk);
        gpa += chunk; n -= chunk;
    }
}

/* The guest's Multiboot info, laid out as QEMU's -kernel loader lays it out, so that a guest
 * that prints an address of it prints the same one in both: the memory map at 0x9000, the
 * info at 0x9500; above the image the module list, the module strings, the command line and
 * the loader name, then the modules, each on a page of its own. */
static uint32_t build_mbi(struct vm *vm, const struct kimage *k, const struct gmod *gm, unsigned n)
{
    uint32_t mem = vm->guest_pages * PAGE_SIZE;
    /* A PC's map as SeaBIOS reports it: base memory below the EBDA, the BIOS area, RAM from
     * 1 MiB but for its top 128 KiB (where a BIOS keeps its tables), the flash below 4 GiB. */
    struct mb_mmap_entry map[6] = {
        { 20, 0, 0x9fc00, MB_MMAP_AVAILABLE },
        { 20, 0x9fc00, 0x400, MB_MMAP_RESERVED },
        { 20, 0xf0000, 0x10000, MB_MMAP_RESERVED },
        { 20, 0x100000, mem - 0x100000 - GUEST_TOP_RESERVED, MB_MMAP_AVAILABLE },
        { 20, mem - GUEST_TOP_RESERVED, GUEST_TOP_RESERVED, MB_MMAP_RESERVED },
        { 20, 0xfffc0000u, 0x40000, MB_MMAP_RESERVED },
    };
    static const char loader[] = "umbra";
    uint32_t mods = info_top(k);
    uint32_t str = mods + 16 * n;
    uint32_t strings = (uint32_t)strlen(vm->set.cmdline) + 1;
    for (unsigned i = 0; i < n; i++) strings += (uint32_t)strlen(gm[i].string) + 1;
    uint32_t name = str + strings;
    uint32_t mod_at = (uint32_t)PAGE_ALIGN_UP(name + sizeof loader);
    for (unsigned i = 0; i < n; i++) {
        uint32_t entry[4] = { mod_at, mod_at + gm[i].size, str, 0 };
        put_guest(vm, mods + i * 16, entry, sizeof entry);
        put_guest(vm, str, gm[i].string, (uint32_t)strlen(gm[i].string) + 1);
        str += (uint32_t)strlen(gm[i].string) + 1;
        put_guest(vm, mod_at, gm[i].data, gm[i].size);
        mod_at += (uint32_t)PAGE_ALIGN_UP(gm[i].size);
    }
    struct mb_info mbi;
    memset(&mbi, 0, sizeof mbi);
    mbi.flags = MB_INFO_MEM | MB_INFO_BOOTDEV | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
    mbi.mem_lower = 639;
    mbi.mem_upper = (mem - 0x100000 - GUEST_TOP_RESERVED) >> 10;
    mbi.boot_device = MB_BOOTDEV_WHOLE_DISK0;
    mbi.cmdline = str;
    mbi.mods_count = n;
    mbi.mods_addr = mods;
    mbi.mmap_addr = GUEST_MMAP;
    mbi.mmap_length = sizeof map;
    mbi.boot_loader_name = name;
    put_guest(vm, str, vm->set.cmdline, (uint32_t)strlen(vm->set.cmdline) + 1);
    put_guest(vm, name, loader, sizeof loader);
    put_guest(vm, GUEST_MMAP, map, sizeof map);
    put_guest(vm, GUEST_MBI, &mbi, sizeof mbi);
    return GUEST_MBI;
}

void guest_load(struct vm *vm, const struct kimage *k, const struct gmod *mods, unsigned n)
{
    firmware_write(vm);
    kimage_load(k, put_guest, vm);
    vm->shared->entry_eip = k->entry;
    vm->shared->entry_eax = MB_BOOT_MAGIC;
    vm->shared->entry_ebx = build_mbi(vm, k, mods, n);
}

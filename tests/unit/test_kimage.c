/* The guest kernel image decoder: ELF program headers, the entry point's translation, the
 * Multiboot header's load addresses (a.out kludge), and every refusal with its reason. */
#include "tests/unit/unit.h"
#include "supervisor/kimage.h"
#include "supervisor/elf.h"
#include "boot/multiboot.h"

#define MEM (64ull << 20)
static uint8_t file[16384];
static char why[160];

/* A Multiboot header at offset off with these flags and (kludge) addresses. */
static void put_header(uint32_t off, uint32_t flags, const uint32_t addr[5])
{
    struct mb_header h = { MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags), 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (addr) { h.header_addr = addr[0]; h.load_addr = addr[1]; h.load_end_addr = addr[2]; h.bss_end_addr = addr[3]; h.entry_addr = addr[4]; }
    memcpy(file + off, &h, 32);
}

/* An ELF executable with one segment per (vaddr, paddr, filesz, memsz, flags) row. */
static uint32_t make_elf(uint32_t entry, unsigned n, const uint32_t seg[][5])
{
    memset(file, 0, sizeof file);
    struct elf32_ehdr eh = { .type = ET_EXEC, .machine = EM_386, .version = 1, .entry = entry,
                             .phoff = 52, .ehsize = 52, .phentsize = 32, .phnum = (uint16_t)n };
    memcpy(eh.ident, "\x7f" "ELF\x01\x01\x01", 7);
    memcpy(file, &eh, sizeof eh);
    for (unsigned i = 0; i < n; i++) {
        struct elf32_phdr ph = { PT_LOAD, 0x1000 * (i + 1), seg[i][0], seg[i][1], seg[i][2], seg[i][3], seg[i][4], 0x1000 };
        memcpy(file + 52 + 32 * i, &ph, sizeof ph);
        memset(file + 0x1000 * (i + 1), 0xa0 + (int)i, seg[i][2]);
    }
    put_header(0x1000, 3, 0);
    return 0x1000 * (n + 1);
}

TEST(kimage_elf_entry_translated_in_executable_segment)
{
    const uint32_t seg[][5] = { { 0xc0100000u, 0x100000, 0x800, 0x3000, 5 }, { 0xc0200000u, 0x200000, 0x100, 0x100, 6 } };
    uint32_t size = make_elf(0xc0100010u, 2, seg);
    struct kimage k;
    CHECK(kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(!k.kludge);
    CHECK_EQ(k.entry, 0x100010);
    CHECK_EQ(k.low, 0x100000);
    CHECK_EQ(k.high, 0x200100);
}

TEST(kimage_elf_entry_in_data_segment_is_not_translated)
{
    /* QEMU moves the entry only inside an executable segment's file bytes: elsewhere it stays
     * virtual, and here it then lies outside everything loaded. */
    const uint32_t seg[][5] = { { 0xc0100000u, 0x100000, 0x800, 0x3000, 6 } };
    uint32_t size = make_elf(0xc0100010u, 1, seg);
    struct kimage k;
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "entry point c0100010 is not inside a loaded segment") != 0);
}

TEST(kimage_elf_refusals)
{
    const uint32_t seg[][5] = { { 0x100000, 0x100000, 0x800, 0x3000, 5 } };
    struct kimage k;
    uint32_t size = make_elf(0x100000, 1, seg);
    memset(file + 0x1000, 0, 32);                       /* no header */
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(!strcmp(why, "no Multiboot header in its first 8 KiB"));
    memset(file, 'x', 64);
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(!strcmp(why, "not an ELF file"));
    size = make_elf(0x100000, 1, seg);
    put_header(0x1000, 3 | 0x20, 0);                     /* a required flag umbra does not know */
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "asks for features umbra lacks") != 0);
    const uint32_t over[][5] = { { 0x9800, 0x9800, 0x10, 0x10, 5 } };
    size = make_elf(0x9800, 1, over);
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "overlaps where umbra puts the Multiboot info") != 0);
    const uint32_t high[][5] = { { 0x3fff000, 0x3fff000, 0x10, 0x2000, 5 } };
    size = make_elf(0x3fff000, 1, high);
    CHECK(!kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "segment 0 (03fff000-04000fff) lies outside the guest's 64 MiB of RAM") != 0);
}

/* A flat image: the header at 0x20, loaded at 1 MiB. */
static void make_flat(uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    memset(file, 0, sizeof file);
    for (unsigned i = 0; i < 0x3000; i++) file[i] = (uint8_t)(i * 7);
    const uint32_t addr[5] = { 0x100020, 0x100000, load_end, bss_end, entry };
    put_header(0x20, 3 | MB_HF_ADDRESSES, addr);
}

/* Collects what kimage_load writes into a fake guest memory (1 MiB .. 1 MiB + 64 KiB). */
static uint8_t gmem[0x10000];
static void put(void *ctx, uint32_t gpa, const void *src, uint32_t n)
{
    (void)ctx;
    CHECK(gpa >= 0x100000 && gpa + n <= 0x100000 + sizeof gmem);
    if (src) memcpy(gmem + gpa - 0x100000, src, n); else memset(gmem + gpa - 0x100000, 0, n);
}

TEST(kimage_kludge_loads_by_the_header)
{
    struct kimage k;
    make_flat(0x102000, 0x105000, 0x100040);
    memset(gmem, 0x55, sizeof gmem);
    CHECK(kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(k.kludge);
    CHECK_EQ(k.low, 0x100000);
    CHECK_EQ(k.high, 0x105000);
    CHECK_EQ(k.entry, 0x100040);
    CHECK_EQ(k.load_size, 0x2000);
    kimage_load(&k, put, 0);
    CHECK(!memcmp(gmem, file, 0x2000));
    CHECK_EQ(gmem[0x2000], 0);
    CHECK_EQ(gmem[0x4fff], 0);
    CHECK_EQ(gmem[0x5000], 0x55);                       /* nothing past bss_end */
    /* load_end_addr 0: the rest of the file; bss_end_addr 0: no BSS. */
    make_flat(0, 0, 0x100040);
    CHECK(kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK_EQ(k.load_size, 0x3000);
    CHECK_EQ(k.high, 0x103000);
}

TEST(kimage_kludge_wins_over_elf)
{
    /* An ELF file whose header asks for load addresses is loaded by them, as QEMU and GRUB do. */
    const uint32_t seg[][5] = { { 0x200000, 0x200000, 0x800, 0x800, 5 } };
    uint32_t size = make_elf(0x200000, 1, seg);
    const uint32_t addr[5] = { 0x101000, 0x100000, 0, 0x104000, 0x101020 };
    put_header(0x1000, 3 | MB_HF_ADDRESSES, addr);
    struct kimage k;
    CHECK(kimage_decode(file, size, MEM, &k, why, sizeof why));
    CHECK(k.kludge);
    CHECK_EQ(k.file_off, 0);
    CHECK_EQ(k.entry, 0x101020);
    CHECK_EQ(k.high, 0x104000);
}

TEST(kimage_kludge_refusals)
{
    struct kimage k;
    make_flat(0x102000, 0x105000, 0x100040);
    ((struct mb_header *)(file + 0x20))->header_addr = 0xff000;    /* below load_addr */
    CHECK(!kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "do not place the file") != 0);
    make_flat(0x104000, 0, 0x100040);                            /* past the file's end */
    CHECK(!kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "load_end_addr 00104000 lies outside the file") != 0);
    make_flat(0x102000, 0x101000, 0x100040);
    CHECK(!kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "bss_end_addr 00101000 lies below") != 0);
    make_flat(0x102000, 0x105000, 0x200000);
    CHECK(!kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "entry point 00200000 is not inside the image") != 0);
    make_flat(0x102000, 0x5000000, 0x100040);
    CHECK(!kimage_decode(file, 0x3000, MEM, &k, why, sizeof why));
    CHECK(strstr(why, "lies outside the guest's 64 MiB") != 0);
    make_flat(0x102000, 0, 0x100040);
    CHECK(!kimage_decode(file, 0x28, MEM, &k, why, sizeof why));  /* header cut short */
    CHECK(!strcmp(why, "not an ELF file"));
}

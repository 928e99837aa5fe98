/* Decoding a guest kernel image. Both loaders umbra is measured against (QEMU's -kernel and
 * GRUB) take the Multiboot header's load addresses when its flag 16 asks for them, whatever
 * the file's format, and read ELF program headers otherwise; umbra does the same. */
#include "supervisor/kimage.h"
#include "supervisor/elf.h"
#include "boot/multiboot.h"
#include "lib/fmt.h"

#define MB_SEARCH 8192u
#define PF_X      1u

/* The Multiboot header in the first 8 KiB (4-byte aligned, checksum right); NULL if none.
 * With load addresses it must hold them all (32 bytes). */
static const struct mb_header *find_mb_header(const uint8_t *file, uint32_t size)
{
    for (uint32_t off = 0; off + 12 <= size && off < MB_SEARCH; off += 4) {
        const struct mb_header *h = (const struct mb_header *)(file + off);
        if (h->magic != MB_HEADER_MAGIC || h->magic + h->flags + h->checksum != 0) continue;
        if ((h->flags & MB_HF_ADDRESSES) && off + 32 > size) return 0;
        return h;
    }
    return 0;
}

/* A span [lo, hi) of guest-physical memory must lie in RAM and leave the Multiboot info alone. */
static bool span_ok(const char *what, uint64_t lo, uint64_t hi, uint64_t mem, char *why, unsigned whylen)
{
    if (hi > mem) {
        snfmt(why, whylen, "%s (%08x-%08x) lies outside the guest's %u MiB of RAM", what, (uint32_t)lo,
              (uint32_t)(hi - 1), (unsigned)(mem >> 20));
        return false;
    }
    if (lo < GUEST_MBI_END && hi > GUEST_MBI_BASE) {
        snfmt(why, whylen, "%s (%08x-%08x) overlaps where umbra puts the Multiboot info (%x-%x)", what,
              (uint32_t)lo, (uint32_t)(hi - 1), GUEST_MBI_BASE, GUEST_MBI_END - 1);
        return false;
    }
    return true;
}

/* The a.out kludge: the header says where it sits in memory, what to load, where BSS ends and
 * where to enter. The header's own file offset ties file and memory together. */
static bool decode_kludge(const struct mb_header *h, uint64_t mem, struct kimage *k, char *why, unsigned whylen)
{
    uint32_t hoff = (uint32_t)((const uint8_t *)h - k->file);
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > hoff) {
        snfmt(why, whylen, "its Multiboot header's header_addr %08x and load_addr %08x do not place the file",
              h->header_addr, h->load_addr);
        return false;
    }
    k->kludge = true;
    k->file_off = hoff - (h->header_addr - h->load_addr);
    if (h->load_end_addr) {
        if (h->load_end_addr < h->load_addr || h->load_end_addr - h->load_addr > k->size - k->file_off) {
            snfmt(why, whylen, "its Multiboot header's load_end_addr %08x lies outside the file", h->load_end_addr);
            return false;
        }
        k->load_size = h->load_end_addr - h->load_addr;
    } else {
        k->load_size = k->size - k->file_off;
    }
    uint64_t end = (uint64_t)h->load_addr + k->load_size;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < end) {
            snfmt(why, whylen, "its Multiboot header's bss_end_addr %08x lies below the end of what it loads",
                  h->bss_end_addr);
            return false;
        }
        end = h->bss_end_addr;
    }
    if (!k->load_size && end == h->load_addr) { snfmt(why, whylen, "its Multiboot header loads nothing"); return false; }
    if (!span_ok("the image", h->load_addr, end, mem, why, whylen)) return false;
    k->low = h->load_addr;
    k->high = (uint32_t)end;
    k->entry = h->entry_addr;
    if (k->entry < k->low || k->entry >= k->high) {
        snfmt(why, whylen, "entry point %08x is not inside the image (%08x-%08x)", k->entry, k->low, k->high - 1);
        return false;
    }
    return true;
}

/* Is the file a 32-bit little-endian x86 ELF executable? false with the reason. */
static bool elf_ident_ok(const struct kimage *k, char *why, unsigned whylen)
{
    const struct elf32_ehdr *eh = (const struct elf32_ehdr *)k->file;
    if (k->size < sizeof *eh || *(const uint32_t *)k->file != ELF_MAGIC) { snfmt(why, whylen, "not an ELF file"); return false; }
    if (eh->ident[4] != ELFCLASS32 || eh->ident[5] != ELFDATA2LSB || eh->machine != EM_386) {
        snfmt(why, whylen, "not a 32-bit little-endian x86 ELF (class %u, machine %u)", eh->ident[4], eh->machine);
        return false;
    }
    if (eh->type != ET_EXEC) { snfmt(why, whylen, "ELF type %u is not an executable", eh->type); return false; }
    return true;
}

/* ELF: loaded by its program headers at their physical addresses. The entry point is moved
 * from virtual to physical when it lies in an executable segment whose two addresses differ,
 * as QEMU's loader does. */
static bool decode_elf(uint64_t mem, struct kimage *k, char *why, unsigned whylen)
{
    const struct elf32_ehdr *eh = (const struct elf32_ehdr *)k->file;
    if (!elf_ident_ok(k, why, whylen)) return false;
    if (eh->phentsize != sizeof(struct elf32_phdr) || !eh->phnum || eh->phnum > 64 ||
        eh->phoff > k->size || (uint64_t)eh->phoff + eh->phnum * sizeof(struct elf32_phdr) > k->size) {
        snfmt(why, whylen, "its program headers are malformed");
        return false;
    }
    const struct elf32_phdr *ph = (const struct elf32_phdr *)(k->file + eh->phoff);
    uint64_t low = ~0ull, high = 0;
    k->entry = eh->entry;
    for (unsigned i = 0; i < eh->phnum; i++) {
        if (ph[i].type != PT_LOAD || !ph[i].memsz) continue;
        uint64_t end = (uint64_t)ph[i].paddr + ph[i].memsz;
        if ((uint64_t)ph[i].offset + ph[i].filesz > k->size || ph[i].filesz > ph[i].memsz) {
            snfmt(why, whylen, "segment %u lies outside the file", i);
            return false;
        }
        char what[16];
        snfmt(what, sizeof what, "segment %u", i);
        if (!span_ok(what, ph[i].paddr, end, mem, why, whylen)) return false;
        if (ph[i].paddr < low) low = ph[i].paddr;
        if (end > high) high = end;
        if (ph[i].vaddr != ph[i].paddr && (ph[i].flags & PF_X) && eh->entry >= ph[i].vaddr &&
            eh->entry - ph[i].vaddr < ph[i].filesz)
            k->entry = eh->entry - ph[i].vaddr + ph[i].paddr;
    }
    if (!high) { snfmt(why, whylen, "no loadable segment"); return false; }
    k->low = (uint32_t)low;
    k->high = (uint32_t)high;
    for (unsigned i = 0; i < eh->phnum; i++)
        if (ph[i].type == PT_LOAD && k->entry >= ph[i].paddr && k->entry - ph[i].paddr < ph[i].memsz) return true;
    snfmt(why, whylen, "entry point %08x is not inside a loaded segment", k->entry);
    return false;
}

bool kimage_decode(const uint8_t *file, uint32_t size, uint64_t mem, struct kimage *k, char *why, unsigned whylen)
{
    *k = (struct kimage){ .file = file, .size = size };
    const struct mb_header *mh = find_mb_header(file, size);
    if (!mh) {
        if (elf_ident_ok(k, why, whylen)) snfmt(why, whylen, "no Multiboot header in its first 8 KiB");
        return false;
    }
    uint32_t unknown = mh->flags & 0xfff8u;
    if (unknown) { snfmt(why, whylen, "its Multiboot header asks for features umbra lacks (flags %08x)", mh->flags); return false; }
    return (mh->flags & MB_HF_ADDRESSES) ? decode_kludge(mh, mem, k, why, whylen) : decode_elf(mem, k, why, whylen);
}

void kimage_load(const struct kimage *k, kimage_put put, void *ctx)
{
    if (k->kludge) {
        put(ctx, k->low, k->file + k->file_off, k->load_size);
        put(ctx, k->low + k->load_size, 0, k->high - k->low - k->load_size);
        return;
    }
    const struct elf32_ehdr *eh = (const struct elf32_ehdr *)k->file;
    const struct elf32_phdr *ph = (const struct elf32_phdr *)(k->file + eh->phoff);
    for (unsigned i = 0; i < eh->phnum; i++) {
        if (ph[i].type != PT_LOAD || !ph[i].memsz) continue;
        put(ctx, ph[i].paddr, k->file + ph[i].offset, ph[i].filesz);
        put(ctx, ph[i].paddr + ph[i].filesz, 0, ph[i].memsz - ph[i].filesz);
    }
}

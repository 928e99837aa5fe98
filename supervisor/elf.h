/* ELF32 structures a Multiboot guest image uses, as the ELF specification defines them. */
#ifndef SUPERVISOR_ELF_H
#define SUPERVISOR_ELF_H
#include <stdint.h>

#define ELF_MAGIC   0x464c457fu   /* "\x7fELF" little-endian */
#define ELFCLASS32  1
#define ELFDATA2LSB 1
#define ET_EXEC     2
#define EM_386      3
#define PT_LOAD     1

struct elf32_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version, entry, phoff, shoff, flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
    uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

#endif

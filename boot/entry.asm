; umbra's Multiboot header and entry: a stack, a clean BSS, then C with the loader's magic and info.
bits 32

MB_MAGIC  equ 0x1BADB002
MB_FLAGS  equ (1 << 0) | (1 << 1)          ; page-aligned modules, memory info wanted

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .bss
align 4096
global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    resb 16384
boot_stack_top:

section .text.boot
global _start
extern kmain, __bss_start, __bss_end
_start:
    cli
    cld
    ; Keep the loader's EAX/EBX while the BSS is cleared (the info lies outside the image).
    mov esi, eax
    mov edx, ebx
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    xor eax, eax
    rep stosb
    mov esp, boot_stack_top
    xor ebp, ebp                ; the end of every stack trace
    push edx                    ; multiboot info (physical address)
    push esi                    ; magic
    call kmain
.hang:
    cli
    hlt
    jmp .hang

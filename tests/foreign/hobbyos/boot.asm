; hobbyos boot stub (identity-mapped kernel): Multiboot header, a stack, flags in a known
; state, then kmain(magic, info).
bits 32
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003                 ; page-aligned modules, memory information

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .text
global _start
extern kmain
_start:
    mov esp, boot_stack_top
    push dword 2                        ; IF=0, DF=0, nothing else
    popfd
    push ebx
    push eax
    call kmain
.halt:
    cli
    hlt
    jmp .halt

section .bss
align 16
boot_stack:
    resb 16384
global boot_stack_top
boot_stack_top:

; hobbyos boot stub for the higher-half kernel. It runs at its physical address with paging
; off, maps the first 16 MiB both at 0 (only the first 4 MiB, where it runs) and at
; 0xC0000000 with 4 MiB pages, turns paging on, jumps high, then takes the identity map
; away again (INVLPG and a CR3 reload) before it calls kmain(magic, info).
bits 32
KV       equ 0xC0000000
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .boot progbits alloc exec nowrite align=16
global _start
extern kmain
_start:
    mov esi, eax                        ; the Multiboot magic, for later
    mov edi, boot_pd - KV
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [boot_pd - KV], 0x00000083                    ; 0-4 MiB at 0: P, W, 4 MiB
    mov edi, boot_pd - KV + (KV >> 22) * 4
    mov eax, 0x00000083
    mov ecx, 4
.high_pdes:
    stosd                               ; 0-16 MiB at 0xC0000000
    add eax, 0x400000
    loop .high_pdes
    mov eax, cr4
    or eax, 0x10                        ; PSE
    mov cr4, eax
    mov eax, boot_pd - KV
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000                  ; PG
    mov cr0, eax
    mov eax, higher_half
    jmp eax

section .text
higher_half:
    mov dword [boot_pd], 0              ; the identity map goes
    invlpg [0]
    mov eax, cr3
    mov cr3, eax
    mov esp, boot_stack_top
    push dword 2
    popfd
    push ebx                            ; Multiboot info, physical
    push esi
    call kmain
.halt:
    cli
    hlt
    jmp .halt

section .bss.pd nobits alloc noexec write align=4096
boot_pd:
    resb 4096

section .bss
align 16
boot_stack:
    resb 16384
global boot_stack_top
boot_stack_top:

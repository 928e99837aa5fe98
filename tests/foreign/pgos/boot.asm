; pgos boot: Multiboot entry at the physical address, a directory with the first 4 MiB mapped
; at 0 and at 0x80000000, paging on, a jump to the higher half. kmain() builds the real tables
; and drops the identity map. Trap stubs and the context switch live here too.
bits 32
KVIRT equ 0x80000000

section .mb progbits alloc noexec nowrite align=4
    dd 0x1BADB002, 0, -0x1BADB002

section .bss
align 4096
global boot_pd
boot_pd:     resb 4096
boot_stack:  resb 16384
boot_stack_top:

section .text
global boot_phys
boot_phys equ boot - KVIRT
extern kmain
boot:
    cli
    mov ecx, boot_pd - KVIRT
    mov dword [ecx], 0x83
    mov dword [ecx + 512 * 4], 0x83
    mov edx, cr4
    or edx, 0x10
    mov cr4, edx
    mov cr3, ecx
    mov edx, cr0
    or edx, 0x80010000              ; PG, WP
    mov cr0, edx
    mov edx, .high
    jmp edx
.high:
    mov esp, boot_stack_top
    push ebx
    push eax
    call kmain
.dead:
    cli
    hlt
    jmp .dead

; ---- traps ---------------------------------------------------------------------------------
%macro TRAP 2
trap%1:
%if %2 == 0
    push dword 0
%endif
    push dword %1
    jmp trap_common
%endmacro
%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
TRAP v, 1
%else
TRAP v, 0
%endif
%assign v v + 1
%endrep
TRAP 128, 0
%assign v 32
%rep 16
TRAP v, 0
%assign v v + 1
%endrep

extern trap
trap_common:
    pushad
    push ds
    push es
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call trap
    add esp, 4
global trap_return
trap_return:
    pop es
    pop ds
    popad
    add esp, 8
    iretd

section .rodata
global trap_vectors
trap_vectors:
%assign v 0
%rep 32
    dd trap %+ v
%assign v v + 1
%endrep
    dd trap128
%assign v 32
%rep 16
    dd trap %+ v
%assign v v + 1
%endrep

section .text
; void ctx_switch(uint32_t *save_esp, uint32_t esp, uint32_t cr3)
global ctx_switch
ctx_switch:
    mov edx, [esp + 4]
    mov ecx, [esp + 8]
    mov eax, [esp + 12]
    push ebp
    push ebx
    push esi
    push edi
    mov [edx], esp
    mov cr3, eax
    mov esp, ecx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; ---- user memory from the kernel -----------------------------------------------------------
; int copy_user(void *dst, const void *src, uint32_t n): 0, or -1 when a page fault the
; handler could not resolve stopped it (the handler moves EIP to copy_user_fail).
global copy_user, copy_user_at, copy_user_fail
copy_user:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov ecx, [esp + 20]
    cld
copy_user_at:
    rep movsb
    xor eax, eax
    pop edi
    pop esi
    ret
copy_user_fail:
    mov eax, -1
    pop edi
    pop esi
    ret

; int put_user32(uint32_t *dst, uint32_t v)
global put_user32, put_user32_at
put_user32:
    mov edx, [esp + 4]
    mov eax, [esp + 8]
put_user32_at:
    mov [edx], eax
    xor eax, eax
    ret
global put_user32_fail
put_user32_fail:
    mov eax, -1
    ret

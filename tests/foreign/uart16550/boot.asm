; uart16550 guest: Multiboot entry and interrupt stubs (vectors 0-47).
bits 32
section .mbhdr
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .bss
align 16
    resb 16384
stack_top:

section .text
global _start
extern guest_main, isr_dispatch
_start:
    cli
    mov esp, stack_top
    cld
    call guest_main
    mov dx, 0xf4
    out dx, al
.forever:
    jmp .forever

%macro VEC 1
vec_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
    push dword %1
%else
    push dword 0
    push dword %1
%endif
    jmp isr_common
%endmacro
%assign i 0
%rep 48
VEC i
%assign i i+1
%endrep

isr_common:
    pushad
    push esp
    call isr_dispatch
    add esp, 4
    popad
    add esp, 8
    iretd

section .rodata
global vec_table
vec_table:
%assign i 0
%rep 48
    dd vec_ %+ i
%assign i i+1
%endrep

; apicos start-up: Multiboot header, a GDT of our own, and one entry stub per vector that
; hands a frame to the C dispatcher (intr_entry).
bits 32

section .multiboot
align 4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF          ; 0x08 ring 0 code, flat
    dq 0x00CF92000000FFFF          ; 0x10 ring 0 data, flat
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt

section .bss
align 16
    resb 32768
stack_top:

section .text
global start
extern kernel_main
start:
    cli
    lgdt [gdtr]
    jmp 0x08:.reload
.reload:
    mov cx, 0x10
    mov ds, cx
    mov es, cx
    mov fs, cx
    mov gs, cx
    mov ss, cx
    mov esp, stack_top
    push ebx
    push eax
    call kernel_main
    mov dx, 0xf4
    out dx, eax
.hang:
    hlt
    jmp .hang

; Vectors 8, 10-14, 17 push an error code; the others get a zero so the frame is uniform.
%macro VEC 1
vec_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
%else
    push dword 0
%endif
    push dword %1
    jmp isr_common
%endmacro

%assign n 0
%rep 256
VEC n
%assign n n+1
%endrep

extern intr_entry
isr_common:
    pushad
    cld
    push esp
    call intr_entry
    add esp, 4
    popad
    add esp, 8
    iretd

section .rodata
global vec_table
vec_table:
%assign n 0
%rep 256
    dd vec_ %+ n
%assign n n+1
%endrep

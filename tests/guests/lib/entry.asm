; Guest test kernels: the Multiboot header and entry, and one stub per vector into C.
bits 32
section .multiboot
align 4
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)

section .bss
alignb 16
global gstack_top
    resb 16384
gstack_top:

section .text
global _start
extern gmain, gexit
_start:
    mov esp, gstack_top
    push ebx
    push eax
    call gmain
    push eax
    call gexit

; Stubs: every vector builds struct gframe and calls gtrap(frame).
%macro STUB 1
gstub_%1:
%if (%1 == 8) || (%1 == 10) || (%1 == 11) || (%1 == 12) || (%1 == 13) || (%1 == 14) || (%1 == 17)
%else
    push 0
%endif
    push %1
    jmp gcommon
%endmacro
%assign v 0
%rep 256
STUB v
%assign v v+1
%endrep

extern gtrap
gcommon:
    pusha
    push ds
    push es
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call gtrap
    add esp, 4
    pop es
    pop ds
    popa
    add esp, 8
    iret

section .rodata
global gstub_table
gstub_table:
%assign v 0
%rep 256
    dd gstub_ %+ v
%assign v v+1
%endrep

; run_user(fn): enter fn in ring 3 on the user stack; INT 0x81 brings it back here.
section .bss
alignb 16
    resb 8192
guser_stack_top:
saved_esp: resd 1
section .text
global run_user, back_to_kernel
run_user:
    push ebp
    push ebx
    push esi
    push edi
    mov [saved_esp], esp
    mov eax, [esp + 20]
    push 0x23
    push guser_stack_top
    pushfd
    push 0x1b
    push eax
    mov cx, 0x23
    mov ds, cx
    mov es, cx
    iret
; run_user_lret(fn): the same, entering ring 3 with a far return instead of IRET.
global run_user_lret
run_user_lret:
    push ebp
    push ebx
    push esi
    push edi
    mov [saved_esp], esp
    mov eax, [esp + 20]
    push 0x23
    push guser_stack_top
    push 0x1b
    push eax
    mov cx, 0x23
    mov ds, cx
    mov es, cx
    retf
; Called from the INT 0x81 handler: drop the trap frames, return from run_user.
back_to_kernel:
    mov esp, [saved_esp]
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

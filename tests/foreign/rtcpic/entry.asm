; rtcpic: Multiboot entry, flat segments, and stubs for the 32 exceptions and 16 IRQs
; (remapped to 0x20-0x2f). Each stub saves the caller-clobbered registers and calls
; on_trap(vector, error, eip).
bits 32
section .mb
align 4
MB_MAGIC equ 0x1BADB002
    dd MB_MAGIC, 0, -MB_MAGIC

section .data
align 8
gdt_table:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdt_ptr:
    dw 23
    dd gdt_table

section .bss
alignb 16
stack_base: resb 16384
stack_end:

section .text
global entry
extern rtcpic_main
entry:
    cli
    mov esp, stack_end
    mov esi, eax
    lgdt [gdt_ptr]
    jmp 0x08:.cs_ok
.cs_ok:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    push esi
    call rtcpic_main
    mov dx, 0xf4
    out dx, al
.dead:
    cli
    hlt
    jmp .dead

%macro TRAP 1
trap%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
    push eax
    push ecx
    push edx
    mov eax, [esp + 12]          ; error code
    mov ecx, [esp + 16]          ; eip
    push ecx
    push eax
    push dword %1
    call on_trap
    add esp, 12
    pop edx
    pop ecx
    pop eax
    add esp, 4
    iretd
%else
    push eax
    push ecx
    push edx
    mov ecx, [esp + 12]          ; eip
    push ecx
    push dword 0
    push dword %1
    call on_trap
    add esp, 12
    pop edx
    pop ecx
    pop eax
    iretd
%endif
%endmacro

extern on_trap
%assign i 0
%rep 48
TRAP i
%assign i i+1
%endrep

section .rodata
global trap_stubs
trap_stubs:
%assign i 0
%rep 48
    dd trap %+ i
%assign i i+1
%endrep

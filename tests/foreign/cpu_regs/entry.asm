; Start-up, descriptor tables, trap entry and the fault catcher shared by the cpu_* guests.
; Flat protected mode, no paging unless a test turns it on; every vector has a stub that
; hands a frame to trap_entry() in C.
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0

section .multiboot progbits alloc noexec nowrite align=4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .bss
align 16
boot_stack:  resb 16384
boot_top:
global ring0_stack_top
ring0_stack: resb 8192          ; where traps from ring 3 land (TSS.esp0)
ring0_stack_top:
global user_stack_top
user_stack:  resb 8192
user_stack_top:

section .data
align 8
global gdt
gdt:    times 64 dq 0
gdt_end:
global gdtr
gdtr:   dw gdt_end - gdt - 1
        dd gdt
align 8
global idt
idt:    times 256 dq 0
idt_end:
global idtr
idtr:   dw idt_end - idt - 1
        dd idt

align 4
catch_esp: dd 0
global catch_on
catch_on:  dd 0
global user_eflags
user_eflags: dd 0x002          ; the EFLAGS enter_user gives ring 3

section .text
global _start
extern rt_setup
extern main
_start:
    cli
    mov esp, boot_top
    ; the GDT is filled in C before it is loaded; the loader's segments serve until then
    call rt_setup
    lgdt [gdtr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    lidt [idtr]
    call main
    mov dx, 0xf4
    out dx, al
.stop:
    hlt
    jmp .stop

; Stubs: vectors with an error code push only the vector; the others push 0 first.
%macro STUB 1
stub_%1:
%if (%1 = 8) || (%1 >= 10 && %1 <= 14) || (%1 = 17) || (%1 = 21)
%else
    push dword 0
%endif
    push dword %1
    jmp trap_common
%endmacro

%assign v 0
%rep 256
STUB v
%assign v v+1
%endrep

global stub_table
section .rodata
stub_table:
%assign v 0
%rep 256
    dd stub_ %+ v
%assign v v+1
%endrep

section .text
extern trap_entry
; Frame (low to high): gs fs es ds, edi esi ebp esp0 ebx edx ecx eax, vector, error, eip, cs, eflags [esp ss]
trap_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    cld
    push esp
    call trap_entry          ; 0: return to the interrupted code; else land in the catcher
    add esp, 4
    test eax, eax
    jnz catch_land
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8
    iretd

; int try_call(void (*fn)(void *), void *arg): -1 when fn returns, else the vector that
; interrupted it (trap_entry decided to land here).
global try_call
try_call:
    push ebp
    push ebx
    push esi
    push edi
    mov [catch_esp], esp
    mov dword [catch_on], 1
    mov eax, [esp + 20]
    push dword [esp + 24]
    call eax
    add esp, 4
    mov dword [catch_on], 0
    mov eax, -1
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret
catch_land:
    mov eax, [esp + 48]      ; the vector, from the frame
    mov esp, [catch_esp]
    mov cx, 0x10
    mov ds, cx
    mov es, cx
    mov fs, cx
    mov gs, cx
    mov ss, cx
    mov dword [catch_on], 0
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; void enter_user(void (*fn)(void)): IRET to ring 3 at fn on the user stack with user_eflags.
; fn ends with INT 0x80 (user_exit), which lands in the catcher.
global enter_user
enter_user:
    mov eax, [esp + 4]
    mov cx, 0x23
    mov ds, cx
    mov es, cx
    mov fs, cx
    mov gs, cx
    push dword 0x23
    push dword user_stack_top
    push dword [user_eflags]
    push dword 0x1b
    push eax
    iretd

global user_exit
user_exit:
    int 0x80
    jmp user_exit

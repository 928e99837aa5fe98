; hhsys boot: entered at the physical address of _start with paging off. Map the first 4 MiB
; twice (at 0 and at 0xC0000000) with 4 MiB pages, turn paging on, continue in the higher half,
; then drop the identity map.
bits 32
KVIRT equ 0xC0000000

section .multiboot
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .bss
align 4096
global boot_pd
boot_pd: resb 4096
align 16
resb 16384
global boot_stack_top
boot_stack_top:

section .text
global _start
extern kmain
_start:
    mov edi, eax                        ; the Multiboot magic, for kmain
    mov esi, ebx
    mov ecx, boot_pd - KVIRT
    mov dword [ecx], 0x83               ; 0: 4 MiB, present, writable
    mov dword [ecx + 768 * 4], 0x83     ; 0xC0000000: the same 4 MiB
    mov eax, cr4
    or eax, 0x10                        ; PSE
    mov cr4, eax
    mov cr3, ecx
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    lea eax, [higher]
    jmp eax
higher:
    mov dword [boot_pd], 0
    mov eax, cr3
    mov cr3, eax
    mov esp, boot_stack_top
    push esi
    push edi
    call kmain
.stop:
    cli
    hlt
    jmp .stop

; The system call gate's entry: the registers as the C handler's struct.
global syscall_entry
extern syscall_c
syscall_entry:
    push ds
    push es
    pushad
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call syscall_c
    add esp, 4
    popad
    pop es
    pop ds
    iretd

; Page faults: the C handler gets the registers and the frame with its error code.
global pf_entry
extern pf_c
pf_entry:
    push ds
    push es
    pushad
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call pf_c
    add esp, 4
    popad
    pop es
    pop ds
    add esp, 4                          ; the error code
    iretd

; Other traps: the vector and a stop.
global trap_entry
extern trap_c
trap_entry:
    push esp
    call trap_c
.halt:
    hlt
    jmp .halt

; enter_user(eip, esp): IRET to ring 3; returns when ring 3 makes system call 0.
global enter_user, leave_user
enter_user:
    push ebp
    push ebx
    push esi
    push edi
    mov [saved_esp], esp
    mov eax, [esp + 20]
    mov ecx, [esp + 24]
    push dword 0x23                     ; user SS
    push ecx
    push dword 0x202
    push dword 0x1b                     ; user CS
    push eax
    mov ax, 0x23
    mov ds, ax
    mov es, ax
    iretd
leave_user:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov esp, [saved_esp]
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

section .data
saved_esp: dd 0

; SYSENTER's kernel entry and the ring-3 code a SYSEXIT lands in, for cpu_regs.
bits 32
extern sys_state
section .text
global user_sys, sysenter_entry
user_sys:
    mov eax, cs
    mov [sys_state], eax
    mov eax, ss
    mov [sys_state + 4], eax
    mov eax, ds
    mov [sys_state + 8], eax
    mov [sys_state + 12], esp
    pushfd
    pop eax
    mov [sys_state + 32], eax
    sysenter
sysenter_entry:
    mov eax, cs
    mov [sys_state + 16], eax
    mov eax, ss
    mov [sys_state + 20], eax
    mov [sys_state + 24], esp
    pushfd
    pop eax
    mov [sys_state + 28], eax
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    int 0x80

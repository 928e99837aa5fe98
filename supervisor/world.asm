; The host's half of the world switch. world_enter saves the host's registers, moves onto
; the VM's trampoline page tables (the host's, plus the transition page at its monitor
; linear address) and jumps into the transition page; a suspension comes back through
; world_host_resume, which restores the host's CR3, IDT, TSS and stack, and returns.
; Why an NMI is harmless at every instruction of both: monitor/transition.asm.
bits 32
%include "monitor/layout.inc"
HOST_CS equ 0x08
HOST_DS equ 0x10

section .data
world_host_stack: dd 0          ; ESP, then SS: for LSS, which loads both at once
                  dw HOST_DS

section .text
global world_enter, world_host_resume
extern host_cr3, host_idtr, gdt_reload_tr

; void world_enter(uint32_t tramp_cr3, uint32_t entry_linear, uint32_t trans_linear)
world_enter:
    push ebp
    push ebx
    push esi
    push edi
    pushfd
    cli
    mov [world_host_stack], esp
    mov eax, [esp + 24]
    mov edx, [esp + 28]
    mov ebx, [esp + 32]
    mov cr3, eax                ; the trampoline: host code stays mapped
    jmp edx                     ; into the transition page (trans_from_host)

; The monitor suspended: CS = HOST_CS on the trampoline CR3 with the host GDT loaded, the
; switch's IDT, and the stack at the end of the transition page.
world_host_resume:
    mov ax, HOST_DS
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    lss esp, [world_host_stack]
    lidt [host_idtr]
    mov eax, [host_cr3]
    mov cr3, eax
    call gdt_reload_tr
    popfd
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

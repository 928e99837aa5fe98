; intclass: start-up, descriptor tables and trap stubs. The kernel (main.c) asks for events
; that are interrupts, not exceptions, and whose delivery faults: INT 8, INT 10, INT 14 and
; IRQ0 arriving on vector 8 through gates that are not present or not gates at all. The SDM
; (Vol. 3 6.15, table 6-4/6-5) counts only exceptions as first events of a double fault, so
; each of these must give the plain #NP or #GP, never #DF or a reset. It also single-steps
; CR8 accesses (LOCK MOV CR0), which a hypervisor may perform behind the guest's back.
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .bss
align 16
stack_bottom: resb 16384
stack_top:
global idt
idt: resq 32

section .data
align 8
gdt:
    dq 0                            ; null
    dq 0x00cf9a000000ffff           ; 0x08 ring 0 code, flat
    dq 0x00cf92000000ffff           ; 0x10 ring 0 data, flat
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
global idtr
idtr: dw 32 * 8 - 1
      dd idt

section .text
global _start
extern kmain
_start:
    cli
    mov esp, stack_top
    lgdt [gdtr]
    jmp 0x08:.cs_ok
.cs_ok:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    lidt [idtr]
    call kmain                      ; returns the status
    out 0xf4, al
.stop:
    hlt
    jmp .stop

; One stub per vector; those without an error code push a zero first.
%macro STUB 1
stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
%else
    push 0
%endif
    push %1
    jmp trap_common
%endmacro
%assign v 0
%rep 32
STUB v
%assign v v + 1
%endrep

global stub_table
stub_table:
%assign v 0
%rep 32
    dd stub_ %+ v
%assign v v + 1
%endrep

extern on_trap
trap_common:
    pushad
    push esp                        ; struct regs *
    call on_trap
    add esp, 4
    popad
    add esp, 8                      ; vector, error code
    iretd

; The probes. Each INT is at a label the kernel compares with the frame's EIP.
global probe_int8, at_int8, probe_int10, at_int10, probe_int14, at_int14
probe_int8:
at_int8:
    int 8
    ret
probe_int10:
at_int10:
    int 10
    ret
probe_int14:
at_int14:
    int 14
    ret

; IRQ0 with IF set: the interrupt comes while halted; its delivery faults and the #NP frame
; returns to after_hlt.
global probe_irq, after_hlt
probe_irq:
    sti
    hlt
after_hlt:
    cli
    ret

; CR8 under single step: POPF sets TF, so the #DB follows the instruction after it, each
; CR8 access here. The argument (on the stack): the value to write; returns what the read gave.
global probe_cr8, after_cr8_read, after_cr8_write
probe_cr8:
    push ebx
    mov ebx, [esp + 8]
    pushfd
    or dword [esp], 0x100
    popfd
    db 0xf0, 0x0f, 0x20, 0xc0       ; lock mov eax, cr0 = mov eax, cr8
after_cr8_read:
    xchg eax, ebx
    pushfd
    or dword [esp], 0x100
    popfd
    db 0xf0, 0x0f, 0x22, 0xc0       ; lock mov cr0, eax = mov cr8, eax
after_cr8_write:
    mov eax, ebx
    pop ebx
    ret

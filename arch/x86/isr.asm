; Host interrupt and exception entry stubs: one per vector, all into trap_dispatch(frame).
bits 32
section .text

%include "arch/x86/vectors.inc"
VECTOR_STUBS isr_, isr_common

extern trap_dispatch
isr_common:
    pusha
    push ds
    push es
    push fs
    push gs
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    cld
    push esp                    ; struct trap_frame *
    call trap_dispatch
    add esp, 4
    pop gs
    pop fs
    pop es
    pop ds
    popa
    add esp, 8                  ; vector and error code
    iret

; The table of stub addresses, for idt_init.
section .rodata
global isr_table
isr_table:
    VECTOR_TABLE isr_

; The double-fault task: runs on its own TSS and stack, reports, never returns.
section .text
extern double_fault_report
global double_fault_task
double_fault_task:
    call double_fault_report
.hang:
    cli
    hlt
    jmp .hang

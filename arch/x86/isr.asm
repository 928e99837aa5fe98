; Host interrupt and exception entry stubs: one per vector, all into trap_dispatch(frame).
bits 32
section .text

%macro STUB 1
isr_%1:
%if (%1 == 8) || (%1 == 10) || (%1 == 11) || (%1 == 12) || (%1 == 13) || (%1 == 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
    push 0                      ; vectors without an error code get a zero one
%endif
    push %1
    jmp isr_common
%endmacro

%assign v 0
%rep 256
STUB v
%assign v v+1
%endrep

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
%assign v 0
%rep 256
    dd isr_ %+ v
%assign v v+1
%endrep

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

; Code and data for cpu_dr's breakpoints.
bits 32
section .text
global bp_call, bp_target, bp_after
bp_call:
    push ebx
    mov ebx, 1
bp_target:
    add ebx, 2
bp_after:
    add ebx, 3
    pop ebx
    ret
section .data
align 16
global watch
watch: dd 0, 0, 0, 0

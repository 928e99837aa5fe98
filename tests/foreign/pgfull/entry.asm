; pgfull entry: a stack, then main(). A page fault is fatal here: its stub reports it.
bits 32
section .mb progbits alloc noexec nowrite align=4
    dd 0x1BADB002, 0, -0x1BADB002
section .bss
align 16
stk: resb 16384
stk_top:
section .text
global start, pf_stub
extern main, pf_report
start:
    mov esp, stk_top
    call main
    out 0xf4, al
.h: hlt
    jmp .h
pf_stub:
    push dword [esp]            ; error code
    mov eax, cr2
    push eax
    call pf_report              ; never returns

; mbraw: entry with a plain Multiboot header; EAX and EBX go to C untouched.
bits 32
section .multiboot
align 4
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)
section .text
global _start
extern mbraw_main
_start:
    mov esp, stack_top
    push ebx
    push eax
    call mbraw_main
    mov dx, 0xf4
    out dx, al
.stop:
    hlt
    jmp .stop
section .bss
align 16
    resb 8192
stack_top:

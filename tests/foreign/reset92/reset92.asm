; reset92: a kernel that reboots the way PC kernels do when asked to: the fast reset of
; System Control Port A (0x92, bit 0), after checking that the port reads back A20 on.
bits 32
section .text
align 4
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)
global _start
_start:
    in al, 0x92
    mov esi, msg_a20
    test al, 2
    jnz .say
    mov esi, msg_noa20
.say:
    lodsb
    test al, al
    jz .reset
    mov dx, 0x3f8
    out dx, al
    jmp .say
.reset:
    in al, 0x92
    or al, 1
    out 0x92, al
    mov ecx, 100000000         ; the reset takes a moment to act: wait for it, but not for ever
.wait:
    dec ecx
    jnz .wait
    mov al, 1                  ; never reached natively
    out 0xf4, al
    hlt
section .rodata
msg_a20:   db "reset92: A20 reads on; resetting through port 0x92", 10, 0
msg_noa20: db "reset92: A20 reads off; resetting through port 0x92", 10, 0

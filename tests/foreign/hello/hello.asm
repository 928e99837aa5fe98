; The smallest foreign guest: a Multiboot header, one line on COM1, status 0 through port 0xf4.
bits 32
section .text
align 4
    dd 0x1BADB002, 0, -0x1BADB002
global _start
_start:
    mov esi, msg
.next:
    lodsb
    test al, al
    jz .done
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    mov al, [esi - 1]
    out dx, al
    jmp .next
.done:
    mov dx, 0xf4
    xor eax, eax
    out dx, al
    hlt
section .rodata
msg: db "hello from a foreign guest", 10, 0

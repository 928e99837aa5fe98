; triple: a kernel that ends the way many do when something goes badly wrong: an exception
; with no usable IDT, the double fault finds none either, and the CPU resets. QEMU with
; -no-reboot then exits with code 0; inside umbra the VM ends the same way and so does QEMU.
bits 32
section .text
align 4
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)
global _start
_start:
    mov esi, msg
.next:
    lodsb
    test al, al
    jz .crash
    mov dx, 0x3f8
    out dx, al
    jmp .next
.crash:
    lidt [empty_idt]
    mov eax, 0xdeadbeef
    ud2                        ; #UD -> #DF -> shutdown
    mov al, 1                  ; never reached: a status that says so
    out 0xf4, al
    hlt
section .rodata
empty_idt: dw 0
           dd 0
msg: db "triple: about to fault with an empty IDT", 10, 0

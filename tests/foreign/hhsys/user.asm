; hhsys user program, linked at 0x00400000: system calls through INT 0x80 and what they return.
bits 32
section .user
global user_start
user_start:
    ; call 1: echo and transform, every register returned
    mov eax, 1
    mov ebx, 0x11111111
    mov ecx, 0x22222222
    mov edx, 0x33333333
    mov esi, 0x44444444
    mov edi, 0x55555555
    mov ebp, 0x66666666
    int 0x80
after_call1:
    mov [saved + 0], eax
    mov [saved + 4], ebx
    mov [saved + 8], ecx
    mov [saved + 12], edx
    mov [saved + 16], esi
    mov [saved + 20], edi
    mov [saved + 24], ebp
    mov [saved + 28], esp
    pushfd
    pop dword [saved + 32]
    mov eax, 2                          ; call 2: print what call 1 returned
    mov ebx, saved
    int 0x80
    ; a hundred round trips adding up
    xor esi, esi
    mov edi, 100
.loop:
    mov eax, 3
    mov ebx, edi
    int 0x80
    add esi, eax
    dec edi
    jnz .loop
    mov eax, 4                          ; call 4: print ESI
    mov ebx, esi
    int 0x80
    ; a call the kernel does not know
    mov eax, 77
    int 0x80
    mov ebx, eax
    pushfd
    mov eax, 4
    int 0x80
    pop ebx
    and ebx, 0x8d5                      ; the arithmetic flags it came back with
    mov eax, 4
    int 0x80
    ; the kernel's pages are not the user's: a read and a write fault, and the kernel
    ; skips them (it knows where they are)
global user_pf_read, user_pf_write, user_pf_after
user_pf_read:
    mov eax, [0xC0100000]
    mov eax, 0x11
user_pf_write:
    mov [0xC0100004], eax
user_pf_after:
    mov ebx, eax
    mov eax, 4
    int 0x80
    xor eax, eax
    int 0x80
.never:
    jmp .never

align 4
saved: times 9 dd 0
global user_stack_top
    times 1024 dd 0
user_stack_top:

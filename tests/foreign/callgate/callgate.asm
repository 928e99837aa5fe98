; callgate: far CALL and JMP through 32-bit call gates, as kernels that use them for system
; calls do: from ring 3 inward to the kernel with two parameters copied to the kernel stack
; (the frame printed word by word), RETF 8 back out; a gate between kernel code, called and
; jumped through; and from ring 3 the faults the checks raise (gate DPL, gate not present, a
; gate naming data, a JMP that would change privilege, a null code selector), each with its
; error code.
bits 32
%define KCODE 0x08
%define KDATA 0x10
%define UCODE 0x1b
%define UDATA 0x23
%define TSSSEL 0x28
%define GATE3 0x33        ; DPL 3 call gate to kernel code, 2 parameters
%define GATE0 0x38        ; DPL 0 call gate
%define GATENP 0x43       ; DPL 3, not present
%define GATEDATA 0x4b     ; DPL 3 gate naming the kernel data selector
%define GATEK 0x50        ; DPL 0 gate to kernel code, no parameters (kernel to kernel)
%define GATENULL 0x5b     ; DPL 3 gate with a null code selector

; set_gate index, handler: fill in a gate's offset
%macro set_gate 2
    mov eax, %2
    mov [gdt + %1*8], ax
    shr eax, 16
    mov [gdt + %1*8 + 6], ax
%endmacro

section .text
align 4
    dd 0x1BADB002, 3, -(0x1BADB002 + 3)
global _start
_start:
    mov esp, kstack_top
    ; Ring 3 runs with IF set: mask the firmware's 8259s, whose tick would come on vector 8.
    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    set_gate 6, gate_entry
    set_gate 7, gate_entry
    set_gate 8, gate_entry
    set_gate 9, gate_entry
    set_gate 10, kgate_entry
    mov eax, tss
    mov [gdt + 5*8 + 2], ax
    shr eax, 16
    mov [gdt + 5*8 + 4], al
    mov [gdt + 5*8 + 7], ah
    lgdt [gdtr]
    jmp KCODE:.reload
.reload:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ecx, 0
.idt:                                  ; every exception to its stub, interrupt gates, DPL 0
    mov eax, [stubs + ecx*4]
    mov [idt + ecx*8], ax
    mov word [idt + ecx*8 + 2], KCODE
    mov word [idt + ecx*8 + 4], 0x8e00
    shr eax, 16
    mov [idt + ecx*8 + 6], ax
    inc ecx
    cmp ecx, 32
    jne .idt
    lidt [idtr]
    mov dword [tss + 4], kstack_top
    mov word [tss + 8], KDATA
    mov word [tss + 102], 104
    mov ax, TSSSEL
    ltr ax
    mov esi, s_title
    call puts

    ; 1. a gate between kernel code: CALL pushes CS and EIP, RETF comes back; a JMP through it
    mov eax, 0x1234
    call GATEK:0
    push eax
    mov esi, s_kcall
    call puts
    mov eax, ebx
    call hex
    mov esi, s_kcall2
    call puts
    pop eax
    call hex
    call nl
    mov byte [kjmp], 1
    jmp GATEK:0
k_after_kjmp:
    mov esi, s_kjmp
    call puts

    ; 2. ring 3
    push UDATA
    push ustack_top
    push 0x202
    push UCODE
    push user
    iret

; Kernel code reached through the DPL 3 gate: print the frame, return the parameters' sum.
gate_entry:
    push eax
    mov esi, s_frame
    call puts
    mov ecx, 1
.f: mov eax, [esp + ecx*4]
    cmp ecx, 1
    jne .raw
    sub eax, user                    ; the return EIP as an offset into the user code
.raw:
    call hex
    mov al, ' '
    call putc
    inc ecx
    cmp ecx, 7
    jne .f
    call nl
    mov esi, s_cs
    call puts
    mov eax, cs
    call hex
    mov al, ' '
    call putc
    mov eax, ss
    call hex
    mov al, ' '
    call putc
    mov eax, kstack_top
    sub eax, esp
    call hex
    call nl
    pop eax
    mov eax, [esp + 8]
    add eax, [esp + 12]
    retf 8

; Kernel code reached through the kernel's own gate.
kgate_entry:
    cmp byte [kjmp], 0
    jne .jumped
    mov ebx, [esp + 4]               ; the CS the call pushed
    add eax, 1
    retf
.jumped:
    mov byte [kjmp], 0
    jmp k_after_kjmp

; Ring 3: a call through the gate, then the faulting cases; the kernel reports each fault and
; resumes at [resume]; INT3 (a DPL 0 gate: #GP) asks it to finish.
user:
    mov ax, UDATA
    mov ds, ax
    mov es, ax
    push 0x1111
    push 0x2222
    call GATE3:0
    mov [user_sum], eax
    mov [user_esp], esp
    mov dword [resume], .t2
    call GATE0:0
.t2:
    mov dword [resume], .t3
    call GATENP:0
.t3:
    mov dword [resume], .t4
    call GATEDATA:0
.t4:
    mov dword [resume], .t5
    jmp GATE3:0
.t5:
    mov dword [resume], .t6
    call GATENULL:0
.t6:
    mov dword [resume], 0
    int3
    ud2

; Exceptions: from ring 3 with a resume address, print and go back; else finish.
on_fault:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    cmp dword [resume], 0
    je finish
    mov esi, s_fault
    call puts
    mov eax, [esp]
    call hex
    mov al, ' '
    call putc
    mov eax, [esp + 4]
    call hex
    mov al, ' '
    call putc
    mov eax, [esp + 12]              ; the CS of the frame: ring 3's
    call hex
    call nl
    mov eax, [resume]
    mov [esp + 8], eax
    add esp, 8
    iret

finish:
    mov esi, s_back
    call puts
    mov eax, [user_sum]
    call hex
    mov al, ' '
    call putc
    mov eax, ustack_top
    sub eax, [user_esp]
    call hex
    call nl
    mov esi, s_end
    call puts
    mov al, 0
    out 0xf4, al
    hlt

; ---- helpers ----
putc:
    push edx
    push eax
    mov dx, 0x3fd
.w: in al, dx
    test al, 0x20
    jz .w
    pop eax
    mov dx, 0x3f8
    out dx, al
    pop edx
    ret
puts:
    lodsb
    test al, al
    jz .d
    call putc
    jmp puts
.d: ret
nl: mov al, 10
    jmp putc
hex:
    push ecx
    mov ecx, 8
.h: rol eax, 4
    push eax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 39
.p: call putc
    pop eax
    loop .h
    pop ecx
    ret

; stubs: [esp] vector, [esp+4] error code (0 where the CPU pushes none)
%assign v 0
%rep 32
stub %+ v:
%if v == 8 || (v >= 10 && v <= 14) || v == 17
%else
    push 0
%endif
    push v
    jmp on_fault
%assign v v+1
%endrep

section .data
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08 kernel code
    dq 0x00cf92000000ffff           ; 0x10 kernel data
    dq 0x00cffa000000ffff           ; 0x18 user code
    dq 0x00cff2000000ffff           ; 0x20 user data
    dq 0x0000890000000067           ; 0x28 TSS
    dw 0, KCODE, 0xec02, 0          ; 0x30 call gate, DPL 3, 2 parameters
    dw 0, KCODE, 0x8c00, 0          ; 0x38 DPL 0
    dw 0, KCODE, 0x6c00, 0          ; 0x40 DPL 3, not present
    dw 0, KDATA, 0xec00, 0          ; 0x48 DPL 3, names data
    dw 0, KCODE, 0x8c00, 0          ; 0x50 DPL 0, kernel to kernel
    dw 0, 0, 0xec00, 0              ; 0x58 DPL 3, null selector
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
idtr: dw 32*8 - 1
      dd idt
stubs:
%assign v 0
%rep 32
    dd stub %+ v
%assign v v+1
%endrep
s_title: db "callgate: far calls and jumps through call gates", 10, 0
s_kcall: db "kernel gate call: CS pushed ", 0
s_kcall2: db ", returned ", 0
s_kjmp: db "kernel gate jump arrived", 10, 0
s_frame: db "inward frame (eip-user cs p2 p1 esp ss): ", 0
s_cs: db "in the kernel (cs ss stack used): ", 0
s_fault: db "ring 3 fault (vector error cs): ", 0
s_back: db "back in ring 3 (sum, user stack used): ", 0
s_end: db "callgate: done", 10, 0

section .bss
alignb 16
idt: resb 32*8
tss: resb 104
resume: resd 1
user_sum: resd 1
user_esp: resd 1
kjmp: resb 1
alignb 16
resb 4096
kstack_top:
resb 4096
ustack_top:

; The interrupt-flag sequences of the ifpic guest. Each returns in EAX the address where a
; waiting interrupt must be taken (the instruction after the one the sequence is about);
; they end with interrupts off.
bits 32
section .text
global seq_sti_nop, seq_sti_mov, seq_sti_out, seq_sti_hlt, seq_popf, seq_popfw, seq_iret, seq_sti_cli
global seq_hlt_only

; STI, then one more instruction before the interrupt.
seq_sti_nop:
    mov eax, .m
    sti
    nop
.m: cli
    ret
seq_sti_mov:
    mov eax, .m
    sti
    mov ecx, 7
.m: cli
    ret
seq_sti_out:
    mov eax, .m
    sti
    out 0x80, al
.m: cli
    ret
; STI; HLT: the halt runs, the interrupt wakes it.
seq_sti_hlt:
    mov eax, .m
    sti
    hlt
.m: cli
    ret
; HLT with interrupts already on (the caller set IF with STI long before).
seq_hlt_only:
    mov eax, .m
    hlt
.m: cli
    ret
; POPF setting IF has no shadow: the interrupt comes right after it.
seq_popf:
    mov eax, .m
    pushfd
    or dword [esp], 0x200
    popfd
.m: cli
    ret
seq_popfw:
    mov eax, .m
    o16 pushf
    or word [esp], 0x200
    o16 popf
.m: cli
    ret
; IRET to a frame with IF set: the interrupt comes before the first instruction there.
seq_iret:
    mov eax, .m
    pushfd
    or dword [esp], 0x200
    push cs
    push dword .m
    iretd
.m: cli
    ret
; STI; CLI: the shadow covers the CLI, no interrupt at all.
seq_sti_cli:
    mov eax, .m
    sti
    cli
.m: ret

; Ring 3: IRET to the same level with IF clear in the image (IOPL 0: IF stays); returns
; the flags PUSHF shows after it.
global u_iret_noif
u_iret_noif:
    pushfd
    and dword [esp], ~0x200
    push cs
    push dword .m
    iretd
.m: pushfd
    pop eax
    ret

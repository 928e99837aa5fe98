; Instructions whose lengths the decoder must get right (tools/gen_emu_vectors.py turns the
; NASM listing of this file into tests/unit/emu_vectors.h). 32-bit code.
bits 32
    mov eax, [ebx]
    mov [esp+4], ecx
    mov [ebp-8], dl
    mov eax, [0x12345678]
    mov [eax*4+0x1000], ebx
    mov [esi+edi*8+0x7f], eax
    mov [esi+edi*2-0x80000], ax
    mov byte [ebx], 0x12
    mov dword [ebx+ecx], 0x12345678
    mov word [ebx], 0x1234
    mov al, [0x1000]
    mov [0x2000], eax
    mov ax, [0x1000]
    movzx eax, byte [ebx]
    movzx eax, word [ebx+4]
    movsx ecx, byte [esp]
    movsx ecx, word [ebp+8]
    xchg [ebx], eax
    xchg al, [ecx]
    lock cmpxchg [ebx], ecx
    cmpxchg [ebx], cl
    lock cmpxchg8b [edi]
    lock xadd [ebx], eax
    add [ebx], eax
    add eax, [ebx]
    add byte [ebx], 1
    add dword [ebx], 0x12345678
    add dword [ebx], byte -1
    or dword [ebx+4], 0x80000000
    and dword [ebx], 0xfffff000
    lock or dword [ebx], 1
    lock and byte [ebx+1], 0xfe
    sub [ebx], al
    xor [ebx], ebx
    cmp [ebx], eax
    adc [ebx], eax
    sbb eax, [ebx]
    inc dword [ebx]
    dec byte [ebx]
    not dword [ebx]
    neg word [ebx]
    test [ebx], eax
    test byte [ebx], 0x80
    test dword [ebx], 0x12345678
    bt [ebx], eax
    lock bts [ebx], eax
    lock btr [ebx], ecx
    btc [ebx], edx
    bt dword [ebx], 3
    lock bts dword [ebx], 31
    rep stosd
    rep stosb
    stosw
    rep movsd
    movsb
    lodsd
    push dword [ebx]
    pop dword [ebx]
    cli
    sti
    hlt
    in al, 0x60
    in eax, dx
    out 0x80, al
    out dx, ax
    rep insb
    rep outsw
    int 0x80
    int3
    into
    iret
    retf
    retf 8
    mov ss, ax
    mov ds, [ebx]
    mov eax, cs
    pop ss
    push es
    lss esp, [ebx]
    lgdt [ebx]
    lidt [0x1000]
    sgdt [esp]
    sidt [ebp+4]
    lldt ax
    ltr ax
    sldt [ebx]
    str eax
    smsw eax
    lmsw ax
    invlpg [eax]
    clts
    wbinvd
    invd
    mov eax, cr0
    mov cr3, ebx
    mov cr4, eax
    mov eax, dr7
    mov dr0, ecx
    rdmsr
    wrmsr
    rdtsc
    cpuid
    sysenter
    sysexit
    pushfd
    popfd
    jmp 0x08:0x12345678
    call 0x08:0x100000
    jmp far [ebx]
    call far [ebx+4]
    lar eax, ecx
    lsl eax, [ebx]
    ud2
    nop
    lea eax, [ebx+ecx*4+8]
    imul eax, ebx, 12
    imul eax, [ebx], 0x1000
    shl dword [ebx], 3
    shr eax, cl
    rol byte [ebx], 1
    jz $+2
    jnz near $+0x100
    call $+5
    enter 16, 0
    leave
    push 0x12345678
    push byte 5
    fld dword [ebx]
    fxsave [ebx]
    cmovz eax, [ebx]
    bswap eax
    setnz al
    shld eax, ebx, 4
    pshufd xmm0, xmm1, 0x1b
    movdqu xmm0, [ebx]
    a16 mov ax, [bx+si]
    a16 mov ax, [bp+6]
    a16 mov [0x1234], al
    o16 mov ax, 0x1234
    o16 add word [ebx], 0x1234
    o16 add word [ebx], byte 3
    es mov eax, [ebx]
    fs mov eax, [0]
    gs lock xadd [ebx], eax
    db 0x66, 0x67, 0xf3, 0x2e, 0x8b, 0x00
    ; VEX (AVX): C4/C5 with mod 11 in the next byte are not LES/LDS
    vmovups ymm0, [eax]
    vmovhps [eax], xmm0
    vmulps ymm2, ymm0, ymm1
    vaddps xmm1, xmm2, [esp+0x12345678]
    vzeroall
    vzeroupper
    vpshufd xmm0, xmm1, 0x1b
    vcmpps ymm0, ymm1, ymm2, 3
    vinsertf128 ymm0, ymm0, [esp+16], 1
    vpblendvb xmm0, xmm1, xmm2, xmm3
    vpermilps xmm0, xmm1, [ebx+ecx*4]
    vmovd xmm0, eax
    mov eax, cr0
    db 0x0f, 0x20, 0x40
    db 0x0f, 0x23, 0x05

; pgmmu start-up and the assembly pieces the C side cannot express: the trap stubs, the trip
; to ring 3 and back, string instructions whose exact state at a fault matters, and probes
; that survive a fault (the handler moves EIP to the probe's recovery point).
bits 32

section .mb progbits alloc noexec nowrite align=4
    dd 0x1BADB002, 0, -0x1BADB002

section .bss
align 4096
stack_lo:    resb 16384
stack_hi:
global trap_stack_hi
trap_stack:  resb 8192
trap_stack_hi:

section .data
align 4
kret_esp:    dd 0
global probe_hit, k_esp_seen
probe_hit:   dd 0
k_esp_seen:  dd 0

section .text
global entry
extern kmain
entry:
    cli
    mov esp, stack_hi
    push ebx
    push eax
    call kmain
    mov dx, 0xf4
    out dx, al
.dead:
    hlt
    jmp .dead

; ---- trap stubs: a frame for trap() in C -------------------------------------------------
%macro TRAPSTUB 2                       ; vector, pushes an error code itself
tstub%1:
%if %2 == 0
    push dword 0
%endif
    push dword %1
    jmp trap_body
%endmacro

%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21
TRAPSTUB v, 1
%else
TRAPSTUB v, 0
%endif
%assign v v + 1
%endrep
TRAPSTUB 128, 0

extern trap
trap_body:
    pushad
    push ds
    push es
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call trap
    add esp, 4
    pop es
    pop ds
    popad
    add esp, 8
    iretd

section .rodata
global tstub_table
tstub_table:
%assign v 0
%rep 32
    dd tstub %+ v
%assign v v + 1
%endrep
    dd tstub128

section .text
; ---- ring 3 round trip --------------------------------------------------------------------
; void enter_user(struct ustate *u): u = { eip, esp, eax, ebx, ecx, edx, esi, edi, eflags }.
; Ring 3 comes back with INT 0x80, AX = 0; trap() stores its registers in *u and calls
; leave_user(), which returns from enter_user.
global enter_user, leave_user
enter_user:
    push ebp
    push ebx
    push esi
    push edi
    mov [kret_esp], esp
    mov ebp, [esp + 20]
    push dword 0x23
    push dword [ebp + 4]
    push dword [ebp + 32]
    push dword 0x1b
    push dword [ebp]
    push dword 0x23
    pop ds
    push dword 0x23
    pop es
    mov eax, [ebp + 8]
    mov ebx, [ebp + 12]
    mov ecx, [ebp + 16]
    mov edx, [ebp + 20]
    mov esi, [ebp + 24]
    mov edi, [ebp + 28]
    xor ebp, ebp
    iretd
leave_user:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov esp, [kret_esp]
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; ---- string instructions with named instruction addresses --------------------------------
; Each: (dst, src, count); the faulting instruction's address is exported as NAME_at.
%macro STRFN 2
global %1, %1_at
%1:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov ecx, [esp + 20]
    mov eax, 0x5a5aa5a5
%1_at:
    %2
    cld
    mov eax, ecx
    pop edi
    pop esi
    ret
%endmacro
STRFN k_movsb_rep, {rep movsb}
STRFN k_movsd_rep, {rep movsd}
STRFN k_stosd_rep, {rep stosd}
STRFN k_stosb_rep, {rep stosb}
; backwards: dst and src name the last byte
global k_movsb_back, k_movsb_back_at
k_movsb_back:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov ecx, [esp + 20]
    std
k_movsb_back_at:
    rep movsb
    cld
    mov eax, ecx
    pop edi
    pop esi
    ret

; ---- probes: uint32_t probe_*(addr[, value]); probe_hit = 1 when it faulted ----------------
global probe_rd, probe_rd_at, probe_wr, probe_wr_at, probe_fix
probe_rd:
    mov edx, [esp + 4]
    mov dword [probe_hit], 0
probe_rd_at:
    mov eax, [edx]
    ret
probe_wr:
    mov edx, [esp + 4]
    mov eax, [esp + 8]
    mov dword [probe_hit], 0
probe_wr_at:
    mov [edx], eax
    ret
; where a faulting probe resumes
probe_fix:
    mov dword [probe_hit], 1
    mov eax, 0xdeadbeef
    ret

; push dword [addr] and pop dword [addr]: ESP must be what it was if either faults
global k_pushmem, k_pushmem_at, k_popmem, k_popmem_at
k_pushmem:
    mov edx, [esp + 4]
    mov [k_esp_seen], esp
k_pushmem_at:
    push dword [edx]
    pop eax
    ret
k_popmem:
    mov edx, [esp + 4]
    push dword [esp + 8]
    mov [k_esp_seen], esp
k_popmem_at:
    pop dword [edx]
    ret

; uint32_t k_esp(void): the caller's ESP at the call (for the frames the tests compare)
global k_esp
k_esp:
    lea eax, [esp + 4]
    ret

; ---- user snippets, copied to user pages (position independent) --------------------------
; Each ends with INT 0x80, EAX 0; results in registers.
global u_snips, u_snips_end
global us_read, us_write, us_movsb, us_call, us_stosd, us_done, us_keep
u_snips:
us_read:                    ; EBX = [ESI]
    mov ebx, [esi]
    xor eax, eax
    int 0x80
us_write:                   ; [EDI] = EBX
    mov [edi], ebx
    xor eax, eax
    int 0x80
us_movsb:                   ; rep movsb ESI -> EDI, ECX bytes; EBX = ECX left (0)
    cld
    rep movsb
    mov ebx, ecx
    xor eax, eax
    int 0x80
us_stosd:                   ; rep stosd of EAX... EBX is the value
    cld
    mov eax, ebx
    rep stosd
    mov ebx, ecx
    xor eax, eax
    int 0x80
us_call:                    ; a call on the stack it was given; EBX = what the callee saw
    call .callee
    xor eax, eax
    int 0x80
.callee:
    mov ebx, [esp]
    ret
us_done:
    xor eax, eax
    int 0x80
us_keep:                    ; EBX = EAX (a called function's result)
    mov ebx, eax
    xor eax, eax
    int 0x80
u_snips_end:

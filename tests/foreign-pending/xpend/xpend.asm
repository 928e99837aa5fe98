; xpend: what umbra still does differently (see README); the frame of xrings.
;
; Its own GDT in an unusual order (data before code, a second kernel code segment whose base
; is not 0, user code before user data, the TSS last), its own IDT and TSS. Every trap goes
; through one common handler that prints the frame it got, relative to what the test said it
; expects: vector, error code, EIP (as an offset from the expected label), CS, EFLAGS, the
; bytes the CPU pushed, IF inside the handler, and from ring 3 the SS and the pushed ESP
; (relative to the ESP the test had), CR2 for #PF and DR6 for #DB. A line ends in FAIL when
; the frame is not the architectural one; the status written to port 0xf4 is the number of
; failed checks.
bits 32

; ---- selectors ----
KDATA   equ 0x08
KCODE   equ 0x10
KCODE2  equ 0x18        ; kernel code, base CODE2_BASE, byte limit 0xfffff
UCODE   equ 0x20        ; DPL3
UDATA   equ 0x28        ; DPL3
RODATA  equ 0x30        ; DPL0 read-only data
SMALL   equ 0x38        ; DPL0 data, byte limit 0xff
NPDATA  equ 0x40        ; DPL0 data, not present
XCODE   equ 0x48        ; DPL0 execute-only code
CONF    equ 0x50        ; DPL0 conforming code
NPCODE  equ 0x58        ; DPL0 code, not present
USMALL  equ 0x60        ; DPL3 data, byte limit 0xfff
UNP     equ 0x68        ; DPL3 data, not present
TSSSEL  equ 0x70
GDT_LIMIT equ 0x77

CODE2_BASE equ 0x100000

NONE    equ 0xffffffff  ; T_vec: no trap expected
NOERR   equ 0xfffffffe  ; T_err: no error code expected

SYS_EXIT  equ 0
SYS_VAL   equ 1
SYS_FLAGS equ 2
SYS_SAY   equ 3
SYS_GATE  equ 4
SYS_CR    equ 5
SYS_TSREP equ 6
SYS_MISSED equ 7

TF equ 0x100
IF_ equ 0x200

; ---- frame offsets in the common handler (EBP) ----
F_ES   equ 0
F_DS   equ 4
F_EDI  equ 8
F_ESI  equ 12
F_EBP  equ 16
F_EBX  equ 24
F_EDX  equ 28
F_ECX  equ 32
F_EAX  equ 36
F_HFL  equ 40
F_VEC  equ 44
F_ERR  equ 48
F_EIP  equ 52
F_CS   equ 56
F_EFL  equ 60
F_UESP equ 64
F_USS  equ 68

%assign USERMODE 0

; SETT name, vector, error, eip, resume: what the next trap should look like.
%macro SETT 5
[section .rodata]
%%n: db %1, 0
__SECT__
    mov dword [ss:T_name], %%n
    mov dword [ss:T_vec], %2
    mov dword [ss:T_err], %3
    mov dword [ss:T_eip], %4
    mov dword [ss:T_resume], %5
    mov dword [ss:T_hook], 0
%endmacro

; TRY name, vector, error, instruction: a fault on that instruction, resumed after it.
%macro TRY 4+
    SETT %1, %2, %3, %%at, %%after
    mov [ss:T_pre], esp
%%at: %4
%%after:
    MISSED
%endmacro

; TRYH name, vector, error, hook, instruction: TRY with a hook run in the handler.
%macro TRYH 5+
    SETT %1, %2, %3, %%at, %%after
    mov dword [ss:T_hook], %4
    mov [ss:T_pre], esp
%%at: %5
%%after:
    MISSED
%endmacro

; MISSED: the trap the test expected did not come.
%macro MISSED 0
    cmp dword [ss:T_vec], NONE
    je %%ok
%if USERMODE
    push eax
    mov eax, SYS_MISSED
    int 0x80
    pop eax
%else
    call missed
%endif
%%ok:
%endmacro

; TRAP name, vector, instruction: a trap, the pushed EIP is after the instruction.
%macro TRAP 3+
    SETT %1, %2, NOERR, %%after, 0
    mov [ss:T_pre], esp
    %3
%%after:
    MISSED
%endmacro

; NOTRAP name, instruction: must not trap (an unexpected trap ends the run).
%macro NOTRAP 2+
    SETT %1, NONE, NOERR, 0, 0
    %2
    SAY %1, ": no trap"
%endmacro

; SAY text...: one line.
%macro SAY 1+
[section .rodata]
%%n: db %1, 0
__SECT__
%if USERMODE
    push eax
    push ecx
    mov ecx, %%n
    mov eax, SYS_SAY
    int 0x80
    pop ecx
    pop eax
%else
    push esi
    mov esi, %%n
    call say
    pop esi
%endif
%endmacro

; VAL name, value, expected: print name=value, check it.
%macro VAL 3
[section .rodata]
%%n: db %1, 0
__SECT__
    push eax
    push ebx
    push ecx
    push edx
    mov ebx, %2
    mov edx, %3
    mov ecx, %%n
%if USERMODE
    mov eax, SYS_VAL
    int 0x80
%else
    call check_val
%endif
    pop edx
    pop ecx
    pop ebx
    pop eax
%endmacro

extern utext_start, udata_end

section .multiboot
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .text
global _start
_start:
    cli
    mov esp, kstack_top
    cld
    ; the PIC: nothing comes in
    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    call build_gdt
    lgdt [gdtr]
    jmp KCODE:.cs
.cs:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    call build_idt
    lidt [idtr]
    mov dword [tss + 4], k0stack_top
    mov dword [tss + 8], KDATA
    mov word [tss + 102], 104
    mov ax, TSSSEL
    ltr ax
    SAY "xpend: differences umbra has not closed"

    call pend_tests

    ; the end
    mov esi, s_done1
    call puts
    mov eax, [fails]
    call pdec
    mov esi, s_done2
    call puts
    mov eax, [checks]
    call pdec
    mov al, 10
    call putc
    mov eax, [fails]
    cmp eax, 0xff
    jb .st
    mov eax, 0xff
.st:
    out 0xf4, al
    cli
.halt:
    hlt
    jmp .halt

; ---------------------------------------------------------------- tables

; make_desc: EDI entry, EAX base, EBX limit (20 bits), CL access byte, CH flags nibble << 4.
make_desc:
    mov [edi], bx
    mov [edi + 2], ax
    push eax
    shr eax, 16
    mov [edi + 4], al
    mov [edi + 7], ah
    pop eax
    mov [edi + 5], cl
    push ebx
    shr ebx, 16
    and bl, 0x0f
    or bl, ch
    mov [edi + 6], bl
    pop ebx
    ret

%macro DESC 5   ; selector, base, limit, access, flags
    lea edi, [gdt + %1]
    mov eax, %2
    mov ebx, %3
    mov cl, %4
    mov ch, %5
    call make_desc
%endmacro

build_gdt:
    DESC KDATA, 0, 0xfffff, 0x92, 0xc0
    DESC KCODE, 0, 0xfffff, 0x9a, 0xc0
    DESC KCODE2, CODE2_BASE, 0xfffff, 0x9a, 0x40
    DESC UCODE, 0, 0xfffff, 0xfa, 0xc0
    DESC UDATA, 0, 0xfffff, 0xf2, 0xc0
    DESC RODATA, 0, 0xfffff, 0x90, 0xc0
    DESC SMALL, small_area, 0xff, 0x92, 0x40
    DESC NPDATA, 0, 0xfffff, 0x12, 0xc0
    DESC XCODE, 0, 0xfffff, 0x98, 0xc0
    DESC CONF, 0, 0xfffff, 0x9e, 0xc0
    DESC NPCODE, 0, 0xfffff, 0x1a, 0xc0
    DESC USMALL, ustack2, 0xfff, 0xf2, 0x40
    DESC UNP, 0, 0xfffff, 0x72, 0xc0
    DESC TSSSEL, tss, 103, 0x89, 0x00
    ret

; set_gate: EAX vector, EBX offset, CX selector, DL attributes (P, DPL, type).
set_gate:
    lea edi, [idt + eax * 8]
    mov [edi], bx
    mov [edi + 2], cx
    mov byte [edi + 4], 0
    mov [edi + 5], dl
    shr ebx, 16
    mov [edi + 6], bx
    ret

build_idt:
    xor esi, esi
.all:
    mov eax, esi
    mov ebx, [stub_table + esi * 4]
    mov cx, KCODE
    mov dl, 0x8e                ; interrupt gate, DPL0
    cmp esi, 3
    je .trap3
    cmp esi, 4
    je .trap3
    cmp esi, 0x80
    je .trap3
    cmp esi, 0x82
    je .trap0
    cmp esi, 0x83
    je .int3
    cmp esi, 0x84
    je .np
    cmp esi, 10
    je .ts
    jmp .set
.trap3: mov dl, 0xef
    jmp .set
.trap0: mov dl, 0x8f
    jmp .set
.int3:  mov dl, 0xee
    jmp .set
.np:    mov dl, 0x6e                ; DPL3 interrupt gate, not present
    jmp .set
.ts:    mov cx, CONF                ; #TS runs on the conforming segment (at the CPL it hits)
    mov ebx, ts_handler
.set:
    call set_gate
    inc esi
    cmp esi, 256
    jb .all
    ret

; ---------------------------------------------------------------- console

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
    push eax
    push esi
.n: lodsb
    test al, al
    jz .e
    call putc
    jmp .n
.e: pop esi
    pop eax
    ret

; phex: EAX value, ECX digits
phex:
    push eax
    push ecx
    push edx
    mov edx, eax
    shl ecx, 2
    ror edx, cl
    shr ecx, 2
.d: rol edx, 4
    mov eax, edx
    and eax, 15
    mov al, [hexdig + eax]
    call putc
    loop .d
    pop edx
    pop ecx
    pop eax
    ret

; pdec: EAX unsigned decimal
pdec:
    push eax
    push ebx
    push ecx
    push edx
    mov ebx, 10
    xor ecx, ecx
.div:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .div
.out:
    pop eax
    add al, '0'
    call putc
    loop .out
    pop edx
    pop ecx
    pop ebx
    pop eax
    ret

; psigned: EAX as +N / -N
psigned:
    push eax
    test eax, eax
    js .neg
    mov al, '+'
    call putc
    mov eax, [esp]
    call pdec
    pop eax
    ret
.neg:
    mov al, '-'
    call putc
    mov eax, [esp]
    neg eax
    call pdec
    pop eax
    ret

say:
    call puts
    push eax
    mov al, 10
    call putc
    pop eax
    ret

; missed: the test named by T_name expected a trap that did not come.
missed:
    push esi
    push eax
    inc dword [checks]
    mov esi, [T_name]
    call puts
    mov esi, s_missed
    call puts
    mov eax, [T_err]
    push ecx
    mov ecx, 4
    call phex
    pop ecx
    call fail_mark
    mov al, 10
    call putc
    mov dword [T_vec], NONE
    pop eax
    pop esi
    ret

fail_mark:
    push esi
    mov esi, s_fail
    call puts
    pop esi
    inc dword [fails]
    ret

; check_val: ECX name, EBX value, EDX expected
check_val:
    push esi
    push eax
    inc dword [checks]
    mov esi, s_indent
    call puts
    mov esi, ecx
    call puts
    mov al, '='
    call putc
    mov eax, ebx
    push ecx
    mov ecx, 8
    call phex
    pop ecx
    cmp ebx, edx
    je .ok
    call fail_mark
    mov esi, s_want
    call puts
    mov eax, edx
    push ecx
    mov ecx, 8
    call phex
    pop ecx
.ok:
    mov al, 10
    call putc
    pop eax
    pop esi
    ret

; ---------------------------------------------------------------- the trap handler

%macro STUBS 0
%assign v 0
%rep 256
stub %+ v:
%if (v == 8) || (v == 10) || (v == 11) || (v == 12) || (v == 13) || (v == 14) || (v == 17)
    push dword v | 0x80000000
%else
    push dword 0
    push dword v
%endif
    jmp trap_common
%assign v v+1
%endrep
%endmacro
STUBS

trap_common:
    pushfd
    pushad
    push ds
    push es
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    cld
    mov ebp, esp
    inc dword [T_traps]
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    cmp eax, 0x80
    jne .not_sys
    mov eax, [ebp + F_EAX]
    cmp eax, SYS_EXIT
    je sys_exit
    cmp eax, SYS_VAL
    je .val
    cmp eax, SYS_FLAGS
    je .flags
    cmp eax, SYS_SAY
    je .say
    cmp eax, SYS_GATE
    je .gate
    cmp eax, SYS_CR
    je .cr
    cmp eax, SYS_TSREP
    je .tsrep
    cmp eax, SYS_MISSED
    je .missed
    jmp .not_sys
.val:
    mov ecx, [ebp + F_ECX]
    mov ebx, [ebp + F_EBX]
    mov edx, [ebp + F_EDX]
    call check_val
    jmp .out
.say:
    mov esi, [ebp + F_ECX]
    call say
    jmp .out
.flags:     ; EFLAGS on return: and with EBX, or ECX
    mov eax, [ebp + F_EFL]
    and eax, [ebp + F_EBX]
    or eax, [ebp + F_ECX]
    mov [ebp + F_EFL], eax
    jmp .out
.gate:      ; gate EBX gets attributes CL
    mov eax, [ebp + F_EBX]
    mov cl, [ebp + F_ECX]
    mov [idt + eax * 8 + 5], cl
    jmp .out
.cr:        ; CR0 (EBX 0) or CR4 (EBX 4): and with ECX, or EDX
    cmp dword [ebp + F_EBX], 4
    je .cr4
    mov eax, cr0
    and eax, [ebp + F_ECX]
    or eax, [ebp + F_EDX]
    mov cr0, eax
    jmp .out
.cr4:
    mov eax, cr4
    and eax, [ebp + F_ECX]
    or eax, [ebp + F_EDX]
    mov cr4, eax
    jmp .out
.tsrep:
    call ts_report
    jmp .out
.missed:
    call missed
    jmp .out
.not_sys:
    cmp dword [T_steps], 0
    je .plain
    call step_report
    jmp .out
.plain:
    cmp dword [T_vec], NONE
    je unexpected
    call report
    mov eax, [T_hook]
    test eax, eax
    jz .nohook
    call eax
.nohook:
    mov eax, [T_resume]
    test eax, eax
    jz .keep
    mov [ebp + F_EIP], eax
.keep:
    mov dword [T_vec], NONE
.out:
    pop es
    pop ds
    popad
    add esp, 12
    iretd

sys_exit:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov esp, [k_saved_esp]
    popad
    ret

unexpected:
    mov esi, s_unexp
    call puts
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    mov ecx, 2
    call phex
    mov esi, s_err
    call puts
    mov eax, [ebp + F_ERR]
    mov ecx, 8
    call phex
    mov esi, s_at
    call puts
    mov eax, [ebp + F_CS]
    mov ecx, 4
    call phex
    mov al, ':'
    call putc
    mov eax, [ebp + F_EIP]
    mov ecx, 8
    call phex
    mov al, 10
    call putc
    mov al, 0xee
    out 0xf4, al
    cli
    hlt

; report: print the frame at EBP against T_*, count the checks.
report:
    cmp dword [T_quiet], 0
    je .loud
    call frame_ok
    jne .loud
    inc dword [checks]
    ret
.loud:
    add dword [checks], 1
    mov esi, [T_name]
    call puts
    mov esi, s_vec
    call puts
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    mov ecx, 2
    call phex
    mov esi, s_err
    call puts
    test dword [ebp + F_VEC], 0x80000000
    jz .noerr
    mov eax, [ebp + F_ERR]
    mov ecx, 4
    call phex
    jmp .eip
.noerr:
    mov esi, s_dashes
    call puts
.eip:
    mov esi, s_eip
    call puts
    mov eax, [ebp + F_EIP]
    sub eax, [T_eip]
    call psigned
    mov esi, s_cs
    call puts
    mov eax, [ebp + F_CS]
    mov ecx, 4
    call phex
    mov esi, s_fl
    call puts
    mov eax, [ebp + F_EFL]
    mov ecx, 8
    call phex
    ; bytes pushed: from the ESP the test had (or TSS.ESP0 on a change to ring 0)
    mov esi, s_push
    call puts
    lea ebx, [ebp + F_EIP]
    test dword [ebp + F_VEC], 0x80000000
    jz .p1
    sub ebx, 4
.p1:
    mov eax, [T_pre]
    test dword [ebp + F_CS], 3
    jz .p2
    mov eax, [tss + 4]
.p2:
    sub eax, ebx
    call pdec
    mov esi, s_if
    call puts
    mov eax, [ebp + F_HFL]
    shr eax, 9
    and eax, 1
    call pdec
    test dword [ebp + F_CS], 3
    jz .r0
    mov esi, s_ss
    call puts
    mov eax, [ebp + F_USS]
    mov ecx, 4
    call phex
    mov esi, s_usp
    call puts
    mov eax, [ebp + F_UESP]
    sub eax, [T_pre]
    call psigned
    mov esi, s_kss
    call puts
    xor eax, eax
    mov ax, ss
    mov ecx, 4
    call phex
.r0:
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    cmp eax, 14
    je .cr2
    cmp dword [T_showcr2], 0
    je .nocr2
.cr2:
    mov esi, s_cr2
    call puts
    mov eax, cr2
    mov ecx, 8
    call phex
.nocr2:
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    cmp eax, 1
    jne .nodr6
    mov esi, s_dr6
    call puts
    mov eax, dr6
    mov ecx, 8
    call phex
.nodr6:
    call frame_ok
    je .done
    call fail_mark
.done:
    mov al, 10
    call putc
    ret

; frame_ok: ZF set when the frame at EBP is the one T_* describes (vector, error code, EIP).
frame_ok:
    push eax
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    cmp eax, [T_vec]
    jne .r
    mov eax, NOERR
    test dword [ebp + F_VEC], 0x80000000
    jz .c1
    mov eax, [ebp + F_ERR]
.c1:
    cmp eax, [T_err]
    jne .r
    mov eax, [ebp + F_EIP]
    cmp eax, [T_eip]
.r:
    pop eax
    ret

; step_report: one single-step trap against the list at T_steps.
step_report:
    cmp dword [T_quiet], 0
    je .loud
    call frame_ok
    jne .loud
    inc dword [checks]
    ret
.loud:
    add dword [checks], 1
    mov esi, [T_name]
    call puts
    mov esi, s_step
    call puts
    mov eax, [T_stepi]
    call pdec
    mov esi, s_vec
    call puts
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    mov ecx, 2
    call phex
    mov esi, s_eip
    call puts
    mov ebx, [T_steps]
    mov edx, [T_stepi]
    mov eax, [ebp + F_EIP]
    sub eax, [ebx + edx * 4]
    call psigned
    mov esi, s_cs
    call puts
    mov eax, [ebp + F_CS]
    mov ecx, 4
    call phex
    mov esi, s_fl
    call puts
    mov eax, [ebp + F_EFL]
    mov ecx, 8
    call phex
    mov esi, s_dr6
    call puts
    mov eax, dr6
    mov ecx, 8
    call phex
    mov eax, [ebp + F_VEC]
    and eax, 0xff
    cmp eax, 1
    jne .bad
    mov eax, [ebp + F_EIP]
    cmp eax, [ebx + edx * 4]
    jne .bad
    jmp .ok
.bad:
    call fail_mark
    ; a lost step: stop stepping here
    and dword [ebp + F_EFL], ~TF
    mov dword [T_steps], 0
.ok:
    mov al, 10
    call putc
    cmp dword [T_steps], 0
    je .r
    inc dword [T_stepi]
    mov edx, [T_stepi]
    cmp dword [ebx + edx * 4], 0
    jne .r
    and dword [ebp + F_EFL], ~TF
    mov dword [T_steps], 0
.r:
    ret

; ---------------------------------------------------------------- ring 0: simple faults and traps


%include "ptests.inc"

; ---------------------------------------------------------------- strings

section .rodata
hexdig:   db "0123456789abcdef"
s_done1:  db "xpend: ", 0
s_done2:  db " failed of ", 0
s_fail:   db " FAIL", 0
s_want:   db " want ", 0
s_indent: db "  ", 0
s_unexp:  db "unexpected trap: vector ", 0
s_vec:    db ": #", 0
s_err:    db " e=", 0
s_dashes: db "----", 0
s_eip:    db " eip", 0
s_cs:     db " cs=", 0
s_fl:     db " fl=", 0
s_push:   db " push=", 0
s_if:     db " if=", 0
s_ss:     db " ss=", 0
s_usp:    db " usp", 0
s_cr2:    db " cr2=", 0
s_dr6:    db " dr6=", 0
s_at:     db " at ", 0
s_step:   db " step ", 0
s_missed: db ": no trap came, e=", 0
s_kss:    db " kss=", 0
s_ts:     db "ts: #TS from int 0x80 with SS0 of DPL 3, handled at CPL 3 on the conforming segment", 0

section .data
align 8
gdtr: dw GDT_LIMIT
      dd gdt
idtr: dw 256 * 8 - 1
      dd idt
idtr_short: dw 0
      dd 0
fails:  dd 0
checks: dd 0
k_saved_esp: dd 0
cs2_cs: dd 0
cs2_pushed_cs: dd 0
cs2_pushed_eip: dd 0
sweep_esp: dd 0
farp:   dd 0, 0
scratch: dd 0

section .bss
alignb 4096
ptab:   resb 4096
pdir:   resb 4096
pg_np:  resb 4096
pg_ro:  resb 4096
pg_sup: resb 4096
pg_ksro: resb 4096
alignb 16
gdt:    resb GDT_LIMIT + 1
idt:    resb 256 * 8
tss:    resb 104
small_area: resb 256
fenv:   resb 28
alignb 16
        resb 8192
kstack_top:
        resb 8192
k0stack_top:

section .rodata
stub_table:
%assign v 0
%rep 256
    dd stub %+ v
%assign v v+1
%endrep

; ================================================================ user pages

section .udata
align 4
T_name:   dd 0
T_vec:    dd NONE
T_err:    dd NOERR
T_eip:    dd 0
T_resume: dd 0
T_pre:    dd 0
T_hook:   dd 0
T_steps:  dd 0
T_stepi:  dd 0
T_traps:  dd 0
T_showcr2: dd 0
T_quiet:  dd 0
ts_rec:   times 8 dd 0
u_sgdt:   times 2 dd 0
u_sidt:   times 2 dd 0
u_bounds: dd 0, 5
u_scratch: times 4 dd 0
align 16
        times 4096 db 0
ustack_top:
ustack2: times 4096 db 0

%include "upend.inc"

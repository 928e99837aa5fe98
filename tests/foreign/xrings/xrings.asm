; xrings: exceptions and privilege transitions, a kernel written in NASM alone.
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
CONF3   equ 0x38        ; DPL3 conforming code
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
SYS_ESP0  equ 8

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
    SAY "xrings: exceptions and privilege transitions"

    call ring0_faults
    call ring0_fpu
    call ring0_gp
    call ring0_far
    call ring0_gates
    call ring0_step
    call probe_iret_step
    call ring0_nested
    call ring0_double
    call ring3_tests
    call irq_tests
    call paging_tests

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
    DESC CONF3, 0, 0xfffff, 0xfe, 0xc0
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
    cmp esi, 0x85
    je .ring3
    jmp .set
.ring3: mov cx, UCODE               ; a handler that runs in ring 3
    mov ebx, user_int85
    mov dl, 0xee
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
    cmp eax, SYS_ESP0
    je .esp0
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
.esp0:      ; TSS.ESP0 moves by EBX
    mov eax, [ebp + F_EBX]
    add [tss + 4], eax
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

ring0_faults:
    xor edx, edx
    mov eax, 1
    xor ecx, ecx
    TRY "de div 0", 0, NOERR, div ecx
    mov eax, 0x80000000
    cdq
    mov ecx, -1
    TRY "de idiv overflow", 0, NOERR, idiv ecx
    mov eax, 7
    TRY "br bound above", 5, NOERR, bound eax, [bounds]
    mov eax, -1
    TRY "br bound below", 5, NOERR, bound eax, [bounds]
    mov eax, 3
    NOTRAP "br bound inside", bound eax, [bounds]
    TRY "ud ud2", 6, NOERR, ud2
    ; STAC and CLAC are ring 0's where the CPU has SMAP
    mov eax, 7
    xor ecx, ecx
    cpuid
    test ebx, 1 << 20
    jz .no_smap
    NOTRAP "stac", stac
    pushfd
    pop ebx
    and ebx, 0x40000
    VAL "AC after stac", ebx, 0x40000
    NOTRAP "clac", clac
    pushfd
    pop ebx
    and ebx, 0x40000
    VAL "AC after clac", ebx, 0
    jmp .smap_done
.no_smap:
    TRY "ud stac without smap", 6, NOERR, stac
.smap_done:
    TRY "ud lock nop", 6, NOERR, db 0xf0, 0x90
    TRY "ud mov cs", 6, NOERR, db 0x8e, 0xc8
    TRAP "bp int3", 3, int3
    TRAP "bp int 3", 3, int 3
    mov al, 0x7f
    add al, 1
    TRAP "of into", 4, into
    xor eax, eax
    NOTRAP "of into, OF clear", into
    ret

bounds: dd 0, 5

; ---------------------------------------------------------------- ring 0: the FPU

clts_hook:
    clts
    ret

mf_hook:
    fnstsw ax
    movzx ebx, ax
    VAL "  fsw", ebx, 0xb884
    fnclex
    ret

ring0_fpu:
    mov eax, cr0
    and eax, ~(0x8 | 0x4 | 0x2)     ; TS, EM, MP clear
    or eax, 0x20                    ; NE
    mov cr0, eax
    fninit
    mov eax, cr0
    or eax, 0x8                     ; TS
    mov cr0, eax
    TRY "nm ts fld1", 7, NOERR, fld1
    NOTRAP "nm ts, mp clear: fwait", fwait
    mov eax, cr0
    or eax, 0x2                     ; MP
    mov cr0, eax
    TRY "nm ts+mp fwait", 7, NOERR, fwait
    TRYH "nm ts fnop (hook: clts)", 7, NOERR, clts_hook, fnop
    mov eax, cr0
    VAL "cr0 after clts", eax, 0x33
    or eax, 0x4                     ; EM
    mov cr0, eax
    TRY "nm em fld1", 7, NOERR, fld1
    NOTRAP "nm em: fwait", fwait
    mov eax, cr0
    and eax, ~0x4
    mov cr0, eax
    ; #MF: an unmasked divide by zero is reported at the next waiting instruction
    fninit
    fldcw [cw_zm]
    fld1
    fldz
mf_div:
    fdivp st1, st0
    SETT "mf fwait", 16, NOERR, mf_at, mf_after
    mov dword [T_hook], mf_hook
    mov [T_pre], esp
mf_at:
    fwait
mf_after:
    MISSED
    fninit
    ret

cw_zm: dw 0x037b

; ---------------------------------------------------------------- ring 0: #GP #NP #SS

ring0_gp:
    mov ax, GDT_LIMIT + 1
    TRY "gp ds past gdt", 13, GDT_LIMIT + 1, mov ds, ax
    mov ax, 0xfff8
    TRY "gp ds fff8", 13, 0xfff8, mov ds, ax
    mov ax, TSSSEL
    TRY "gp ds tss", 13, TSSSEL, mov ds, ax
    mov ax, XCODE
    TRY "gp ds exec-only", 13, XCODE, mov ds, ax
    xor eax, eax
    lldt ax
    mov ax, 0x000c
    TRY "gp fs ldt null", 13, 0x000c, mov fs, ax
    mov ax, RODATA
    TRY "gp ss read-only", 13, RODATA, mov ss, ax
    mov ax, KCODE
    TRY "gp ss code", 13, KCODE, mov ss, ax
    xor eax, eax
    TRY "gp ss null", 13, 0, mov ss, ax
    mov ax, UDATA | 3
    TRY "gp ss rpl3", 13, UDATA, mov ss, ax
    mov ax, UDATA
    TRY "gp ss dpl3", 13, UDATA, mov ss, ax
    mov ax, 0xffc0
    TRY "gp ss ffc0", 13, 0xffc0, mov ss, ax
    mov ax, 0xffb8
    TRY "gp lss ffb8", 13, 0xffb8, lss eax, [farptr_ffb8]
    ; every selector past the GDT: SS, far JMP and IRET all refuse it
    mov dword [T_quiet], 1
    mov ecx, GDT_LIMIT + 1
.sw:
    SETT "gp ss sweep", 13, ecx, .sw2, .sw2a
    mov [ss:T_pre], esp
.sw2: mov ss, cx
.sw2a:
    MISSED
    mov ax, KDATA
    mov ss, ax
    SETT "gp jmp sweep", 13, ecx, .sw3, .sw3a
    mov dword [farp], .sw3bad
    mov [farp + 4], cx
    mov [ss:T_pre], esp
.sw3: jmp far [farp]
.sw3bad:
    jmp KCODE:.sw3a
.sw3a:
    MISSED
    mov [sweep_esp], esp
    pushfd
    push ecx
    push dword .sw4bad
    SETT "gp iret sweep", 13, ecx, .sw4, .sw4a
    mov [ss:T_pre], esp
.sw4: iretd
.sw4bad:
    jmp KCODE:.sw4a
.sw4a:
    mov esp, [sweep_esp]
    MISSED
    add ecx, 8
    cmp ecx, 0x10000
    jb .sw
    mov dword [T_quiet], 0
    SAY "gp ss, jmp, iret past the gdt: swept"
    mov ax, UDATA
    NOTRAP "ds dpl3 data from ring 0", mov ds, ax
    mov ax, KDATA
    mov ds, ax
    ; a limit: the second kernel code segment ends at 0xfffff
    TRY "gp jmp past cs limit", 13, 0, jmp KCODE2:0x100000
    ; far transfers to what is not code
    TRY "gp call data", 13, KDATA, call KDATA:0
    TRY "gp jmp tss", 13, TSSSEL, jmp TSSSEL:0
    TRY "np jmp code not present", 11, NPCODE, jmp NPCODE:0
    ; IRET to what is not code, and to code not present
    pushfd
    push dword KDATA
    push dword 0
    SETT "gp iret cs data", 13, KDATA, .i1, .i1r
    mov [T_pre], esp
.i1: iretd
.i1r:
    MISSED
    add esp, 12
    pushfd
    push dword NPCODE
    push dword 0
    SETT "np iret cs not present", 11, NPCODE, .i2, .i2r
    mov [T_pre], esp
.i2: iretd
.i2r:
    MISSED
    add esp, 12
    ; IRET to ring 0 code with RPL 3 in the selector: ring 3 needs DPL 3 code
    pushfd
    push dword KCODE | 3
    push dword 0
    SETT "gp iret rpl3 kcode", 13, KCODE, .i3, .i3r
    mov [T_pre], esp
.i3: iretd
.i3r:
    MISSED
    add esp, 12
    ; not present data and stack
    mov ax, NPDATA
    TRY "np ds", 11, NPDATA, mov ds, ax
    TRY "np gs", 11, NPDATA, mov gs, ax
    TRY "ss ss not present", 12, NPDATA, mov ss, ax
    TRY "np int 0x84 gate", 11, 0x84 * 8 + 2, int 0x84
    ; a gate to conforming code of DPL 3: above CPL 0, so refused
    mov eax, 0x86
    mov ebx, stub134
    mov cx, CONF3
    mov dl, 0x8e
    call set_gate
    TRY "gp int to conforming code of dpl 3", 13, CONF3, int 0x86
    ret

farptr_ffb8: dd 0
    dw 0xffb8

; ---------------------------------------------------------------- ring 0: far CALL/JMP/RET across code segments

ring0_far:
    call KCODE2:(far2 - CODE2_BASE)
.ret1:
    VAL "far call: cs in callee", [cs2_cs], KCODE2
    VAL "far call: pushed cs", [cs2_pushed_cs], KCODE
    VAL "far call: pushed eip", [cs2_pushed_eip], .ret1
    call far [fptr2]
.ret2:
    VAL "far call [mem]: pushed eip", [cs2_pushed_eip], .ret2
    jmp KCODE2:(jmp2 - CODE2_BASE)
.back:
    VAL "far jmp: cs there", [cs2_cs], KCODE2
    mov eax, cs
    VAL "far jmp back: cs", eax, KCODE
    ret

fptr2: dd far2 - CODE2_BASE
    dw KCODE2

; Code run through KCODE2: offsets are linear addresses minus CODE2_BASE.
far2:
    mov ax, cs
    movzx eax, ax
    mov [cs2_cs], eax
    mov eax, [esp]
    mov [cs2_pushed_eip], eax
    mov eax, [esp + 4]
    mov [cs2_pushed_cs], eax
    SETT "ud2 in code segment 2", 6, NOERR, far2_ud - CODE2_BASE, far2_after - CODE2_BASE
    mov [T_pre], esp
far2_ud:
    ud2
far2_after:
    push cs
    pop eax
    movzx eax, ax
    VAL "push cs in segment 2", eax, KCODE2
    retf

jmp2:
    mov ax, cs
    movzx eax, ax
    mov [cs2_cs], eax
    jmp KCODE:ring0_far.back

; ---------------------------------------------------------------- ring 0: interrupt and trap gates

ring0_gates:
    sti
    mov eax, 0x55
    TRAP "int 0x81 interrupt gate", 0x81, int 0x81
    TRAP "int 0x82 trap gate", 0x82, int 0x82
    TRAP "int 0x80 trap gate dpl3", 0x80, int 0x80
    cli
    TRAP "int 0x82 trap gate, IF clear", 0x82, int 0x82
    ret

; ---------------------------------------------------------------- ring 0: single step

ring0_step:
    SETT "step ring 0", 1, NOERR, 0, 0
    mov dword [T_steps], steps0
    mov dword [T_stepi], 0
    pushfd
    or dword [esp], TF
    popfd
    nop
s0_1: mov eax, 5
s0_2: cli
s0_3: cli
s0_4: mov dx, 0x3ff
s0_5: out dx, al
s0_6: in al, dx
s0_7: mov eax, cr0
s0_8: mov ebx, ebx
s0_9: xchg eax, eax
s0_10:
    cli
    mov dword [T_vec], NONE
    VAL "steps taken", [T_stepi], 9
    mov eax, dr6
    VAL "dr6 after the steps", eax, 0xffff4ff0
    xor eax, eax
    mov dr6, eax
    mov eax, dr6
    VAL "dr6 read", eax, 0xffff0ff0
    ret

steps0: dd s0_1, s0_2, s0_3, s0_4, s0_5, s0_6, s0_7, s0_8, s0_9, 0

; ---------------------------------------------------------------- ring 0: a fault inside a handler

nest_hook:
    push dword [T_resume]
    mov ax, GDT_LIMIT + 1
    TRY "  #GP inside the #UD handler", 13, GDT_LIMIT + 1, mov ds, ax
    pop dword [T_resume]
    ret

ring0_nested:
    mov dword [T_hook], 0
    SETT "ud, its handler faults", 6, NOERR, .at, .after
    mov dword [T_hook], nest_hook
    mov [T_pre], esp
.at: ud2
.after:
    MISSED
    SAY "back from the nested faults"
    ret

; ---------------------------------------------------------------- ring 0: double faults through an interrupt gate

ring0_double:
    ; #GP whose gate is not present: #NP while delivering #GP, a double fault
    and byte [idt + 13 * 8 + 5], 0x7f
    mov ax, GDT_LIMIT + 1
    TRY "df: #GP, gate 13 not present", 8, 0, mov ds, ax
    or byte [idt + 13 * 8 + 5], 0x80
    ; INT past the IDT limit: #GP, and #GP's gate past it too
    mov word [idtr_short], 9 * 8 - 1
    mov dword [idtr_short + 2], idt
    lidt [idtr_short]
    TRY "df: int 0x20 past the idt limit", 8, 0, int 0x20
    lidt [idtr]
    ret

; ---------------------------------------------------------------- ring 3

; run_user: EAX entry, ECX EFLAGS; returns when ring 3 makes SYS_EXIT.
run_user:
    pushad
    mov [k_saved_esp], esp
    push dword UDATA | 3
    push dword ustack_top
    push ecx
    push dword UCODE | 3
    push eax
    mov dx, UDATA | 3
    mov ds, dx
    mov es, dx
    mov fs, dx
    mov gs, dx
    iretd

ring3_tests:
    mov eax, user_main
    mov ecx, 0x202
    call run_user
    SAY "back in ring 0 from ring 3"
    call retf_to_user
    SAY "back in ring 0 after the far return"
    ; #TS: the TSS's SS0 is a DPL 3 segment
    mov dword [tss + 8], UDATA
    mov eax, user_ts
    mov ecx, 0x202
    call run_user
    mov dword [tss + 8], KDATA
    call probe_sysexit
    SAY "back in ring 0 after sysexit"
    call probe_sysenter
    SAY "back in ring 0 after sysenter"
    ret

; A far return to ring 3 (user_retf ends with SYS_EXIT).
retf_to_user:
    pushad
    mov [k_saved_esp], esp
    push dword UDATA | 3
    push dword ustack_top
    push dword UCODE | 3
    push dword user_retf
    mov ax, UDATA | 3
    mov ds, ax
    mov es, ax
    retf

; ts_report: the frame ts_handler recorded at CPL 3.
ts_report:
    mov esi, s_ts
    call say
    VAL "  error code", [ts_rec + 4], UDATA
    mov ebx, [ts_rec + 8]
    sub ebx, ts_at
    VAL "  eip-ts_at", ebx, 0
    VAL "  cs", [ts_rec + 12], UCODE | 3
    mov ebx, [ts_rec + 16]
    VAL "  eflags", ebx, 0x202
    mov ebx, [T_pre]
    sub ebx, [ts_rec]
    VAL "  bytes pushed", ebx, 16
    VAL "  handler cs", [ts_rec + 20], CONF | 3
    mov ebx, [ts_rec + 24]
    and ebx, IF_
    VAL "  handler IF", ebx, 0
    ret

; Single-stepping an IRET in ring 0: TF was set before it, so its trap comes at its target.
probe_iret_step:
    SETT "step over iret", 1, NOERR, 0, 0
    mov dword [T_steps], steps_iret
    mov dword [T_stepi], 0
    pushfd
    push dword KCODE
    push dword .it
    pushfd
    or dword [esp], TF
    popfd
    nop
.i1: iretd
.it:
    nop
    mov dword [T_vec], NONE
    VAL "steps over iret", [T_stepi], 2
    ret
steps_iret: dd probe_iret_step.i1, probe_iret_step.it, 0

; SYSEXIT leaves DS alone: ring 3 goes on with the kernel's DS (DPL 0) it has cached.
probe_sysexit:
    pushad
    mov [k_saved_esp], esp
    mov ecx, 0x174
    xor edx, edx
    mov eax, KCODE                  ; SYSEXIT: CS = KCODE + 16 = UCODE, SS = KCODE + 24 = UDATA
    wrmsr
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov edx, user_after_sysexit
    mov ecx, ustack_top
    sysexit

; SYSENTER with this GDT: CS = KCODE, and SS = KCODE + 8 = KCODE2, a code segment; the CPU
; loads a flat stack segment whatever the GDT holds there.
probe_sysenter:
    mov ecx, 0x175
    xor edx, edx
    mov eax, k0stack_top
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_entry
    wrmsr
    mov eax, user_sysenter
    mov ecx, 0x202
    call run_user
    ret

sysenter_entry:
    mov eax, ss
    mov [scratch], eax
    push dword 0x600d
    pop ebx
    VAL "sysenter: the stack works", ebx, 0x600d
    VAL "sysenter: ss", [scratch], KCODE2
    mov eax, cs
    VAL "sysenter: cs", eax, KCODE
    mov esi, esp
    VAL "sysenter: esp", esi, k0stack_top
    TRAP "bp in the sysenter path", 3, int3
    mov edx, user_after_sysenter
    mov ecx, ustack_top - 16
    sysexit

; ---------------------------------------------------------------- external interrupts

; The end of interrupt, and IF clear where the interrupt returns (the PIT goes on ticking).
irq_eoi_hook:
    mov al, 0x20
    out 0x20, al
    and dword [ebp + F_EFL], ~IF_
    ret

; wait_irq0: with IF clear, until the 8259 holds IRQ0 in its request register.
wait_irq0:
    mov al, 0x0a
    out 0x20, al
.w: in al, 0x20
    test al, 1
    jz .w
    ret

irq_tests:
    ; the 8259 at vectors 0x20 and 0x28, IRQ0 only; the PIT at about 1 kHz
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xa1, al
    mov al, 1
    out 0x21, al
    out 0xa1, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    mov al, 0x34
    out 0x43, al
    mov al, 0xa9
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    ; pending before STI: taken after the instruction that follows it
    call wait_irq0
    SETT "irq0 after sti; nop", 0x20, NOERR, .x, 0
    mov dword [T_hook], irq_eoi_hook
    mov [T_pre], esp
    sti
    nop
.x: nop
    cli
    MISSED
    ; HLT in STI's shadow: the interrupt wakes it, EIP past the HLT
    SETT "irq0 wakes hlt", 0x20, NOERR, .y, 0
    mov dword [T_hook], irq_eoi_hook
    mov [T_pre], esp
    sti
    hlt
.y: cli
    MISSED
    ; MONITOR and MWAIT, where the CPU has them: MWAIT in STI's shadow is woken as HLT is
    mov eax, 1
    cpuid
    test ecx, 1 << 3
    jz .no_mwait
    mov eax, scratch
    xor ecx, ecx
    xor edx, edx
    NOTRAP "monitor", monitor
    mov ecx, 1
    TRY "gp monitor with ecx 1", 13, 0, monitor
    call wait_irq0
    SETT "irq0 wakes mwait", 0x20, NOERR, .z, 0
    mov dword [T_hook], irq_eoi_hook
    xor eax, eax
    xor ecx, ecx
    mov [T_pre], esp
    sti
    mwait
.z: cli
    MISSED
    SETT "irq0 wakes mwait, not pending yet", 0x20, NOERR, .z2, 0
    mov dword [T_hook], irq_eoi_hook
    xor eax, eax
    xor ecx, ecx
    mov [T_pre], esp
    sti
    mwait
.z2: cli
    MISSED
    jmp .mwait_done
.no_mwait:
    TRY "ud monitor without it", 6, NOERR, monitor
.mwait_done:
    ; pending as ring 3 is entered with IF set: taken before its first instruction
    call wait_irq0
    SETT "u irq0 on entering ring 3", 0x20, NOERR, user_irq, user_irq_after
    mov dword [T_hook], irq_eoi_hook
    mov dword [T_pre], ustack_top
    mov eax, user_irq
    mov ecx, 0x202
    call run_user
    mov al, 0xff
    out 0x21, al
    SAY "irq0 masked"
    ret

; The whole IDT again (after a test with a part of it not present).
idt_back_hook:
    lidt [idtr]
    ret

; ---------------------------------------------------------------- paging

PTE_P equ 1
PTE_W equ 2
PTE_U equ 4

paging_tests:
    ; identity map the first 4 MiB: user pages are the user text and data, the rest supervisor
    mov edi, ptab
    xor eax, eax
.fill:
    mov ebx, eax
    or ebx, PTE_P | PTE_W
    cmp eax, utext_start
    jb .k
    cmp eax, udata_end
    jae .k
    or ebx, PTE_U
.k:
    mov [edi], ebx
    add edi, 4
    add eax, 4096
    cmp eax, 0x400000
    jb .fill
    ; the test pages
    mov eax, pg_np
    shr eax, 12
    mov dword [ptab + eax * 4], 0
    mov eax, pg_ro
    shr eax, 12
    mov ebx, pg_ro
    or ebx, PTE_P | PTE_U
    mov [ptab + eax * 4], ebx
    mov eax, pg_sup
    shr eax, 12
    mov ebx, pg_sup
    or ebx, PTE_P | PTE_W
    mov [ptab + eax * 4], ebx
    mov eax, pg_ksro
    shr eax, 12
    mov ebx, pg_ksro
    or ebx, PTE_P
    mov [ptab + eax * 4], ebx
    mov eax, ptab
    or eax, PTE_P | PTE_W | PTE_U
    mov [pdir], eax
    ; nothing at 8 MiB
    mov dword [pdir + 8], 0
    mov eax, pdir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    and eax, ~0x10000               ; WP clear
    mov cr0, eax
    SAY "paging on"

    TRY "pf read not present", 14, 0, mov eax, [pg_np + 8]
    TRY "pf write not present", 14, 2, mov [pg_np + 12], eax
    NOTRAP "write supervisor read-only, WP clear", mov [pg_ksro], eax
    NOTRAP "write user read-only, WP clear", mov [pg_ro], eax
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    TRY "pf write supervisor read-only, WP set", 14, 3, mov [pg_ksro + 4], eax
    TRY "pf write user read-only, WP set", 14, 3, mov [pg_ro + 4], eax
    TRY "pf read pde not present", 14, 0, mov eax, [0x800010]
    SETT "pf fetch not present", 14, 0, pg_np, .fetch_back
    mov [T_pre], esp
    call pg_np
.fetch_back:
    add esp, 4
    ; ring 3
    mov eax, user_paging
    mov ecx, 0x202
    call run_user
    ; an IDT whose upper half lies on a page that is not present: reading a gate faults,
    ; as a supervisor read whatever the CPL
    mov esi, idt
    lea edi, [idt2 + 4096 - 0x400]
    mov ecx, 512
    rep movsd
    mov eax, idt2 + 4096
    shr eax, 12
    mov dword [ptab + eax * 4], 0
    mov eax, idt2 + 4096
    invlpg [eax]
    mov word [idtr_short], 0x7ff
    mov dword [idtr_short + 2], idt2 + 4096 - 0x400
    lidt [idtr_short]
    TRY "pf reading gate 0x81", 14, 0, int 0x81
    mov eax, user_idt_np
    mov ecx, 0x202
    call run_user
    lidt [idtr]
    ; a #PF whose gate is not present: double fault, CR2 set
    and byte [idt + 14 * 8 + 5], 0x7f
    mov dword [T_showcr2], 1
    TRY "df: #PF, gate 14 not present", 8, 0, mov eax, [pg_np + 0x10]
    mov dword [T_showcr2], 0
    or byte [idt + 14 * 8 + 5], 0x80
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    SAY "paging off"
    ret

; ---------------------------------------------------------------- strings

section .rodata
hexdig:   db "0123456789abcdef"
s_done1:  db "xrings: ", 0
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
idt2:   resb 8192
alignb 16
gdt:    resb GDT_LIMIT + 1
idt:    resb 256 * 8
tss:    resb 104
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

%include "user.inc"

; Start-up, trap stubs, the ring-3 trampoline and probes of the ifpic guest.
bits 32

section .mbhdr
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .bss
align 16
boot_stack:  resb 16384
boot_top:
global ring0_stack_top
ring0_stack: resb 8192
ring0_stack_top:

section .data
global fault_fixup, fault_hit, fault_vec, fault_err, fault_eip, fault_cr2
fault_fixup: dd 0        ; where a faulting probe resumes (0: no probe armed)
fault_hit:   dd 0
fault_vec:   dd 0
fault_err:   dd 0
fault_eip:   dd 0
fault_cr2:   dd 0
saved_esp:   dd 0

section .text
global _start
extern kmain
_start:
    cli
    mov esp, boot_top
    cld
    call kmain
    mov dx, 0xf4
    out dx, al
.stop:
    jmp .stop

; One stub per vector; the CPU pushes an error code for these.
%macro STUB 1
stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    push dword %1
%else
    push dword 0
    push dword %1
%endif
    jmp trap_common
%endmacro
%assign v 0
%rep 256
STUB v
%assign v v+1
%endrep

section .rodata
global stub_table
stub_table:
%assign v 0
%rep 256
    dd stub_ %+ v
%assign v v+1
%endrep

section .text
extern trap, user_ret
trap_common:
    pushad
    push ds
    push es
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    push esp
    call trap
    add esp, 4
    test eax, eax
    jnz leave_user
    pop es
    pop ds
    popad
    add esp, 8
    iretd

; uint32_t to_user(void (*fn)(void), uint32_t eflags, uint32_t esp): run fn at CPL3 until it
; calls INT 0x80 (EAX: the value returned here).
global to_user
to_user:
    push ebp
    push ebx
    push esi
    push edi
    mov [saved_esp], esp
    mov eax, [esp + 20]
    mov ecx, [esp + 24]
    mov edx, [esp + 28]
    push dword 0x23
    push edx
    push ecx
    push dword 0x1b
    push eax
    mov bx, 0x23
    mov ds, bx
    mov es, bx
    iretd
leave_user:
    mov esp, [saved_esp]
    mov eax, [user_ret]
    mov bx, 0x10
    mov ds, bx
    mov es, bx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; Port probes: on a fault the trap handler resumes at the probe's end with fault_hit set.
; uint32_t pin(port, size)   void pout(port, size, value)
global pin, pout
pin:
    mov edx, [esp + 4]
    mov ecx, [esp + 8]
    mov eax, 0x5ee5ee5e
    mov dword [fault_hit], 0
    mov dword [fault_fixup], .done
    cmp ecx, 1
    je .b
    cmp ecx, 2
    je .w
    in eax, dx
    jmp .done
.w: in ax, dx
    jmp .done
.b: in al, dx
.done:
    mov dword [fault_fixup], 0
    ret
pout:
    mov edx, [esp + 4]
    mov ecx, [esp + 8]
    mov eax, [esp + 12]
    mov dword [fault_hit], 0
    mov dword [fault_fixup], .done
    cmp ecx, 1
    je .b
    cmp ecx, 2
    je .w
    out dx, eax
    jmp .done
.w: out dx, ax
    jmp .done
.b: out dx, al
.done:
    mov dword [fault_fixup], 0
    ret

; Ring-3 helpers for the flag tests: each returns the flags a PUSHF shows after it.
global u_pushf, u_popf_pushf, pcli, psti
u_pushf:
    pushfd
    pop eax
    ret
; uint32_t u_popf_pushf(uint32_t flags): POPF flags then PUSHF.
u_popf_pushf:
    push dword [esp + 4]
    popfd
    pushfd
    pop eax
    ret

; CLI and STI as probes (for ring 3, where they may fault).
pcli:
    mov dword [fault_hit], 0
    mov dword [fault_fixup], .done
    cli
.done:
    mov dword [fault_fixup], 0
    ret
psti:
    mov dword [fault_hit], 0
    mov dword [fault_fixup], .done
    sti
.done:
    mov dword [fault_fixup], 0
    ret

; void pltr(uint32_t sel): LTR as a probe.
global pltr
pltr:
    mov eax, [esp + 4]
    mov dword [fault_hit], 0
    mov dword [fault_fixup], .done
    ltr ax
.done:
    mov dword [fault_fixup], 0
    ret

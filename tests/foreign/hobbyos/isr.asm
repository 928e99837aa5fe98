; hobbyos low-level entry points: 256 interrupt stubs and the common path, the context
; switch, and a kernel read that may fault (the page-fault handler resumes at its fixup).
bits 32
KDATA equ 0x18

section .text
; Every stub is 16 bytes, so stub i is at isr_stubs + 16*i. Vectors where the CPU pushes
; an error code push only their number; the others push a zero first, so the frame is
; always the same shape.
align 16
isr_stubs:
%assign i 0
%rep 256
    align 16
%if i == 8 || (i >= 10 && i <= 14) || i == 17 || i == 21 || i == 29 || i == 30
    push dword i
%else
    push dword 0
    push dword i
%endif
    jmp isr_common
%assign i i+1
%endrep

extern isr_dispatch
isr_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    cld
    push esp                            ; struct frame *
    call isr_dispatch
    add esp, 4
; A new process starts here too: its kernel stack holds a frame built by the kernel.
global isr_return
isr_return:
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                          ; vector and error code
    iretd

; void switch_to(uint32_t *save_esp, uint32_t new_esp): called with interrupts off; the
; flags travel with the context, like the callee-saved registers.
global switch_to
switch_to:
    mov eax, [esp + 4]
    mov edx, [esp + 8]
    push ebp
    push ebx
    push esi
    push edi
    pushfd
    mov [eax], esp
    mov esp, edx
    popfd
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; int probe_read(uint32_t addr, uint32_t *value): 0 and the word, or -1 if it faulted.
global probe_read, probe_insn, probe_fixup
probe_read:
    mov ecx, [esp + 4]
probe_insn:
    mov eax, [ecx]
    mov edx, [esp + 8]
    mov [edx], eax
    xor eax, eax
    ret
probe_fixup:
    mov eax, -1
    ret

section .rodata
align 4
global isr_table
isr_table:
%assign i 0
%rep 256
    dd isr_stubs + 16 * i
%assign i i+1
%endrep

section .text
; int try_ltr(uint32_t sel): 0, or -1 if LTR faulted.
global try_ltr, ltr_insn, ltr_fixup
try_ltr:
    mov eax, [esp + 4]
ltr_insn:
    ltr ax
    xor eax, eax
    ret
ltr_fixup:
    mov eax, -1
    ret

; int probe_write(uint32_t addr, uint32_t value): 0, or -1 if the store faulted.
global probe_write, pw_insn, pw_fixup
probe_write:
    mov ecx, [esp + 4]
    mov eax, [esp + 8]
pw_insn:
    mov [ecx], eax
    xor eax, eax
    ret
pw_fixup:
    mov eax, -1
    ret

; int try_sse(void): 0 if an SSE instruction ran, -1 if it faulted (#UD with CR4.OSFXSR clear).
global try_sse, sse_insn, sse_fixup
try_sse:
sse_insn:
    xorps xmm0, xmm0
    xor eax, eax
    ret
sse_fixup:
    mov eax, -1
    ret

; int try_call(uint32_t addr): call addr (which returns at once); 0, or -1 if fetching there
; faulted: the fault's EIP is addr, the return address still on the stack for call_fixup.
global try_call, call_fixup
try_call:
    mov eax, [esp + 4]
    call eax
    xor eax, eax
    ret
call_fixup:
    add esp, 4
    mov eax, -1
    ret

; The SYSENTER fast path (getpid only): EDX and ECX carry the user's return EIP and ESP.
; It loads the kernel's DS and FS (FS: the process's info page) and, a student's shortcut,
; leaves them loaded for SYSEXIT.
SYS_KDATA equ 0x40
KINFO equ 0x58
extern sysenter_dispatch
global sysenter_entry
sysenter_entry:
    push ecx
    push edx
    mov bx, SYS_KDATA
    mov ds, bx
    mov bx, KINFO
    mov fs, bx
    push eax
    call sysenter_dispatch
    add esp, 4
    pop edx
    pop ecx
    sysexit

; nmiblock: start-up, tables, trap stubs, and the pieces that must be assembly: a ring 3 NMI
; handler that returns with its own IRET, a kernel NMI handler that goes back to ring 3 with a
; far RET (no IRET: the NMI stays blocked there), the NMI task, and the ring 3 programs.
bits 32

KCODE equ 0x08
KDATA equ 0x10
UCODE equ 0x1b
UDATA equ 0x23
ICR_LO equ 0xfee00300
NMI_SELF equ 0x00040400              ; delivery mode NMI, shorthand self

section .multiboot
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .data
align 8
global gdt
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08 kernel code
    dq 0x00cf92000000ffff           ; 0x10 kernel data
    dq 0x00cffa000000ffff           ; 0x18 user code (DPL 3)
    dq 0x00cff2000000ffff           ; 0x20 user data (DPL 3)
    dq 0                            ; 0x28 main TSS (filled by C)
    dq 0                            ; 0x30 NMI task TSS (filled by C)
gdt_end:
gdtr: dw gdt_end - gdt - 1
      dd gdt
global idtr
idtr: dw 256 * 8 - 1
      dd idt

section .bss
align 16
global idt
idt: resq 256
    resb 16384
kstack_top:
global kstack0_top
    resb 8192
kstack0_top:                        ; ring 0 stack for entries from ring 3 (TSS.esp0)
global nmi_task_stack_top
    resb 4096
nmi_task_stack_top:
global ustack_top
    resb 8192
ustack_top:
kern_esp: resd 1

section .text
global _start
extern kmain
_start:
    cli
    lgdt [gdtr]
    jmp KCODE:.cs
.cs:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, kstack_top
    lidt [idtr]
    call kmain
    mov dx, 0xf4
    out dx, eax
.halt:
    hlt
    jmp .halt

; Every vector: a zero error code where the CPU pushes none, the vector, the registers, then
; trap(frame). Vectors 8, 10-14 and 17 come with an error code.
%macro STUB 1
stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
%else
    push dword 0
%endif
    push dword %1
    jmp trap_common
%endmacro
%assign v 0
%rep 256
STUB v
%assign v v + 1
%endrep

extern trap
trap_common:
    pushad
    cld
    push esp
    call trap
    add esp, 4
    popad
    add esp, 8
    iretd

section .rodata
global stubs
stubs:
%assign v 0
%rep 256
    dd stub_ %+ v
%assign v v + 1
%endrep

section .text
; The #DB stub's address, for the test that finds an NMI at the handler's first instruction.
global db_entry
db_entry equ stub_1

; uint32_t run_user(uint32_t eip, uint32_t eflags): enter ring 3 at eip on ustack_top; ring 3
; comes back with INT 0x30 (EAX is the return value).
global run_user, user_back
run_user:
    push ebp
    push ebx
    push esi
    push edi
    mov [kern_esp], esp
    mov eax, [esp + 20]
    mov ecx, [esp + 24]
    push dword UDATA
    push dword ustack_top
    push ecx
    push dword UCODE
    push eax
    mov dx, UDATA
    mov ds, dx
    mov es, dx
    iretd
user_back:                          ; the INT 0x30 gate lands here, on the TSS's stack
    mov dx, KDATA
    mov ds, dx
    mov es, dx
    mov esp, [kern_esp]
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; Send an NMI to this CPU. The jump after the store ends QEMU's translation block, so that the
; NMI arrives before the code after it there too.
%macro SEND_NMI 0
    mov dword [ICR_LO], NMI_SELF
    jmp %%sent
%%sent:
%endmacro

; ---- A ring 3 NMI handler (gate 2 -> UCODE), taken in ring 3: no privilege change. The first
; time it sends another NMI, which waits, and returns with its own IRET, which lets it in.
global u_nmi, u_nmi_count, u_nmi_seen_before_iret, u_nmi_eip
section .data
u_nmi_count: dd 0
u_nmi_seen_before_iret: dd 0
u_nmi_eip: dd 0, 0
u_nmi_cs: dd 0, 0
global u_nmi_cs
section .text
u_nmi:
    push eax
    push ecx
    mov ecx, [u_nmi_count]
    mov eax, [esp + 8]              ; the frame's EIP
    mov [u_nmi_eip + ecx * 4], eax
    mov eax, [esp + 12]             ; the frame's CS
    mov [u_nmi_cs + ecx * 4], eax
    inc dword [u_nmi_count]
    cmp dword [u_nmi_count], 1
    jne .out
    SEND_NMI
    mov ecx, 20000
.spin:
    dec ecx
    jnz .spin
    mov eax, [u_nmi_count]
    mov [u_nmi_seen_before_iret], eax
.out:
    pop ecx
    pop eax
    iretd

; Ring 3 program for the ring 3 handler: one NMI, then back.
global user_a
user_a:
    SEND_NMI
    mov ecx, 20000
.spin:
    dec ecx
    jnz .spin
    mov eax, [u_nmi_count]
    int 0x30

; ---- A kernel NMI handler (gate 2, trap gate) for NMIs taken in ring 3 that goes back with a
; far RET: the NMI stays blocked in ring 3 until ring 3 runs an IRET of its own.
global k_nmi_retf, k_nmi_count, k_nmi_eip
section .data
k_nmi_count: dd 0
k_nmi_eip: dd 0, 0, 0
section .text
k_nmi_retf:
    push eax
    push ecx
    mov ecx, [k_nmi_count]
    and ecx, 3
    mov eax, [esp + 8]
    mov [k_nmi_eip + ecx * 4], eax
    inc dword [k_nmi_count]
    cmp dword [k_nmi_count], 1
    jne .back
    SEND_NMI                        ; blocked: it waits
.back:
    pop ecx
    pop eax
    ; The frame is EIP, CS, EFLAGS, ESP, SS: move EIP and CS up over EFLAGS and return with a
    ; far RET to ring 3 (it pops EIP, CS, ESP, SS; EFLAGS stays as the trap gate left it).
    push eax
    mov eax, [esp + 8]              ; CS
    mov [esp + 12], eax
    mov eax, [esp + 4]              ; EIP
    mov [esp + 8], eax
    pop eax
    add esp, 4
    retf

; Ring 3 program for it: an NMI (the handler sends another and returns with RETF), then an
; IRET to itself, after which the waiting NMI comes. Its frame is built with the selector
; constant, as a program that knows its code segment does.
global user_b, user_b_before, user_b_after, user_b_label
section .data
user_b_before: dd 0
user_b_after: dd 0
section .text
user_b:
    SEND_NMI
    mov eax, [k_nmi_count]
    mov [user_b_before], eax
    pushfd
    push dword UCODE
    push dword user_b_label
    iretd
user_b_label:
    mov eax, [k_nmi_count]
    mov [user_b_after], eax
    ; The second handler went back by far RET too: NMIs are blocked here again. Far jumps,
    ; calls and returns within ring 3 go on as ever.
    jmp UCODE:.far
.far:
    call UCODE:.sub
    mov eax, [user_b_far]
    int 0x30
.sub:
    inc dword [user_b_far]
    retf
global user_b_far
section .data
user_b_far: dd 0
section .text

; ---- The NMI task (gate 2 -> task gate 0x30). Each NMI switches here; IRET (NT set) goes back.
global nmi_task, t_nmi_count, t_nmi_flags, t_nmi_link, t_nmi_before
extern nmi_tss
section .data
t_nmi_count: dd 0
t_nmi_flags: dd 0
t_nmi_link: dd 0
t_nmi_before: dd 0
section .text
nmi_task:
    inc dword [t_nmi_count]
    pushfd
    pop eax
    mov [t_nmi_flags], eax
    movzx eax, word [nmi_tss]       ; the back link the switch wrote
    mov [t_nmi_link], eax
    cmp dword [t_nmi_count], 1
    jne .ret
    SEND_NMI
    mov ecx, 20000
.spin:
    dec ecx
    jnz .spin
    mov eax, [t_nmi_count]
    mov [t_nmi_before], eax
.ret:
    iretd
    jmp nmi_task


; Kernel IRET to itself: ends NMI blocking left by a handler that did not IRET.
global iret_self
iret_self:
    pushfd
    push dword KCODE
    push dword .after
    iretd
.after:
    ret

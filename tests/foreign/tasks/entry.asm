; tasks: a kernel that lives by hardware task switching. The Multiboot entry, the exception
; stubs, the entry stubs of its tasks (each takes a snapshot of every register the switch
; loaded before it touches any), the user-mode tasks, and the few places where C cannot say
; exactly which instruction runs (far jumps and calls, IRET, the stack overflow).
bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003

KDATA   equ 0x10

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .text
global _start
extern kmain
_start:
    mov esp, boot_stack_top
    push dword 2
    popfd
    xor eax, eax                ; what the loader left in the registers is not printed by
    xor ebx, ebx                ; accident in main's TSS: nothing of it is needed
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    call kmain
.halt:
    cli
    hlt
    jmp .halt

; ---------------------------------------------------------------------------------------
; Snapshots. struct snap (tasks.c): gpr[8] eflags cs ss ds es fs gs tr ldtr cr0 cr3 dr7 top.
%define S_EFL  32
%define S_CS   36
%define S_SS   40
%define S_DS   44
%define S_ES   48
%define S_FS   52
%define S_GS   56
%define S_TR   60
%define S_LDTR 64
%define S_CR0  68
%define S_CR3  72
%define S_DR7  76
%define S_TOP  80

; Registers, flags and selectors, through SS (the one data segment every task is sure of).
%macro SNAP_COMMON 1
    mov [ss:%1 + 0], eax
    mov [ss:%1 + 4], ecx
    mov [ss:%1 + 8], edx
    mov [ss:%1 + 12], ebx
    mov [ss:%1 + 16], esp
    mov [ss:%1 + 20], ebp
    mov [ss:%1 + 24], esi
    mov [ss:%1 + 28], edi
    mov eax, [esp]
    mov [ss:%1 + S_TOP], eax
    pushfd
    pop dword [ss:%1 + S_EFL]
    mov [ss:%1 + S_CS], cs
    mov [ss:%1 + S_SS], ss
    mov [ss:%1 + S_DS], ds
    mov [ss:%1 + S_ES], es
    mov [ss:%1 + S_FS], fs
    mov [ss:%1 + S_GS], gs
    str word [ss:%1 + S_TR]
    sldt word [ss:%1 + S_LDTR]
%endmacro

; A kernel task's entry: the snapshot, the error code an exception left on its stack taken
; off (%3 = 1), then task_loop(id) on the task's own stack, for ever.
extern task_loop
%macro KTASK 3
global ktask_entry_%1
ktask_entry_%1:
    SNAP_COMMON snaps + %1 * 96
    mov eax, cr0
    mov [ss:snaps + %1 * 96 + S_CR0], eax
    mov eax, cr3
    mov [ss:snaps + %1 * 96 + S_CR3], eax
    mov eax, dr7
    mov [ss:snaps + %1 * 96 + S_DR7], eax
%if %3
    add esp, 4
%endif
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    cld
    push dword %1
    call task_loop
.hang:
    jmp .hang
%endmacro

KTASK 1, A, 0
KTASK 2, B, 0
KTASK 3, C, 0
KTASK 4, GP, 1
KTASK 5, DF, 1
KTASK 6, K3, 0
KTASK 7, H, 1
KTASK 8, D, 0
KTASK 9, IRQ, 0
KTASK 10, BAD, 0
KTASK 11, A2, 0

; ---------------------------------------------------------------------------------------
; Switches a C function asks for. The task that runs the instruction is stopped on it: when
; it runs again, every register is as the switch saved it (its TSS), so nothing is clobbered.

; void far_jmp(unsigned sel), far_call(unsigned sel): through a far pointer in memory.
global far_jmp, far_call
far_jmp:
    mov eax, [esp + 4]
    mov [farptr + 4], ax
    jmp far [farptr]
    ret
far_call:
    mov eax, [esp + 4]
    mov [farptr + 4], ax
    call far [farptr]
    ret

; unsigned task_iret_err(void): IRET back to the task that called (NT set); when this task
; runs again through an exception's task gate, the error code it finds on its stack.
global task_iret_err, task_iret
task_iret_err:
    iret
    pop eax
    ret
task_iret:
    iret
    ret

; void probe_jmp(unsigned sel) / probe_call(unsigned sel): a switch with every register and
; arithmetic flag at a known value (the old TSS shows what was saved), FS and GS too; direct
; far pointers (EA and 9A), patched into the instruction. The flags come from a POPF just
; before the far transfer: QEMU's TCG computes the flags a JMP or CALL task switch saves, and
; those the new task starts with, from condition codes it evaluates lazily and has not written
; back when an instruction of the same translation block changed them (XOR, STC: the saved
; image missed them and the new task got them); POPF ends the block. Hardware is exact anyway.
global probe_jmp, probe_call, probe_jmp_at, probe_call_at, probe_after_jmp, probe_after_call
probe_jmp:
    mov eax, [esp + 4]
    mov [probe_jmp_at + 5], ax
    push ebp
    push ebx
    push esi
    push edi
    mov ax, 0x23
    mov fs, ax
    xor eax, eax
    mov gs, ax
    mov eax, 0x11111111
    mov ecx, 0x22222222
    mov edx, 0x33333333
    mov ebx, 0x44444444
    mov ebp, 0x66666666
    mov esi, 0x77777777
    mov edi, 0x88888888
    push dword 0x00000cd7       ; OF DF SF ZF AF PF CF
    popfd
probe_jmp_at:
    jmp 0:0
probe_after_jmp:
    cld
    mov ax, KDATA
    mov fs, ax
    mov gs, ax
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

probe_call:
    mov eax, [esp + 4]
    mov [probe_call_at + 5], ax
    push ebp
    push ebx
    push esi
    push edi
    mov eax, 0x12345678
    mov ecx, 0x9abcdef0
    mov edx, 0x0f1e2d3c
    mov ebx, 0x4b5a6978
    mov ebp, 0x8796a5b4
    mov esi, 0xc3d2e1f0
    mov edi, 0x01020304
    push dword 0x00000893       ; OF SF AF CF
    popfd
probe_call_at:
    call 0:0
probe_after_call:
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; void int40(void), int44(void), int42(void): INT n through the IDT's task gates.
global int40, int42, int44
int40:
    int 0x40
    ret
int42:
    int 0x42
    ret
int44:
    int 0x44
    ret

; void iret_nt(void): IRET with NT set: a task return through this task's back link.
global iret_nt
iret_nt:
    pushfd
    or dword [esp], 0x4000
    popfd
    iret
    ret

; void gp_ds(void): MOV DS of a TSS selector: #GP(0x28) on a 2-byte instruction.
global gp_ds, gp_ds_at
gp_ds:
    mov ax, 0x28
gp_ds_at:
    mov ds, ax
    mov ax, KDATA
    mov ds, ax
    ret

; void overflow(void): the kernel stack runs into the guard page (guard_area's first): the
; #PF cannot push its frame, and the #DF goes through its task gate. Its task sets this
; task's EIP to overflow_recover.
global overflow, overflow_push, overflow_recover
extern guard_area
overflow:
    push ebp
    mov [overflow_esp], esp
    mov esp, guard_area + 4096 + 8
    mov eax, 0xfeedf00d
overflow_push:
    push eax
    jmp overflow_push
overflow_recover:
    mov esp, [overflow_esp]
    pop ebp
    ret

; void irq_window(void): interrupts open for one instruction after STI's shadow.
global irq_window, irq_window_cli
irq_window:
    sti
    nop
irq_window_cli:
    cli
    ret

; int try_(void (*fn)(void)): run fn; 1 if a fault came and the catch handler (tasks.c) sent
; this task to try_recover, with the flags it had here and the kernel's data segments.
global try_, try_recover
extern try_eip, try_esp
try_:
    push ebp
    push ebx
    push esi
    push edi
    pushfd
    pop dword [try_flags]
    mov [try_esp], esp
    mov dword [try_eip], try_recover
    call [esp + 20]
    xor eax, eax
    jmp try_done
try_recover:
    mov esp, [try_esp]
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    push dword [try_flags]
    popfd
    mov eax, 1
try_done:
    mov dword [try_eip], 0
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; ---------------------------------------------------------------------------------------
; Exception and interrupt stubs: struct frame (tasks.c), then catch_c(frame).
extern catch_c
%macro STUB 2
global isr_%1
isr_%1:
%if %2 == 0
    push dword 0
%endif
    push dword %1
    jmp isr_common
%endmacro
%assign v 0
%rep 32
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17
    STUB v, 1
%else
    STUB v, 0
%endif
%assign v v + 1
%endrep
STUB 255, 0
isr_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    cld
    push esp
    call catch_c
    add esp, 4
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8
    iret

; ---------------------------------------------------------------------------------------
; User-mode tasks (CPL 3). They cannot print: they keep what they see in snapshots and let
; the kernel's tasks show it. A fault sends them (through the catch handler) to user_resume.
%macro USNAP 1
    SNAP_COMMON %1
%endmacro
extern user_resume

; U, entered by JMP: faults of switches it may not make, then INT 0x41 through a DPL 3 task
; gate (nested), CALL of a DPL 3 TSS, and at last a JMP through a DPL 3 gate to a DPL 0 TSS.
global utask_u
utask_u:
    USNAP snaps + 12 * 96
    mov dword [user_resume], .r1
    jmp 0x2b:0                  ; main's TSS, DPL 0 < RPL 3: #GP(0x28)
.r1:
    mov dword [user_resume], .r2
    int 0x43                    ; a DPL 0 task gate: #GP(0x43 * 8 + 2)
.r2:
    mov dword [user_resume], .r3
    int 0x42                    ; a task gate not present: #NP(0x42 * 8 + 2)
.r3:
    mov dword [user_resume], .r4
    call 0x30:0                 ; A's TSS, DPL 0: #GP(0x30)
.r4:
    mov dword [user_resume], .r5
    call 0x88:0                 ; a task gate not present (DPL 0 < CPL 3 first): #GP(0x88)
.r5:
    mov dword [user_resume], 0
    mov eax, 0xa1a1a1a1
    mov ebx, 0xb1b1b1b1
    mov ecx, 0xc1c1c1c1
    mov edx, 0xd1d1d1d1
    mov esi, 0x51515151
    mov edi, 0xd0d0d0d0
    mov ebp, 0xbbbbbbbb
    int 0x41                    ; K3 (nested); it IRETs back here
    pushfd
    pop dword [uflags + 0]
    call 0x63:0                 ; K3's TSS itself, DPL 3 (nested again)
    pushfd
    pop dword [uflags + 4]
    jmp 0xfb:0                  ; a DPL 3 gate to A's DPL 0 TSS
    jmp $

; U2, entered by CALL: it returns with IRET at CPL 3 (NT set: a task return).
global utask_u2
utask_u2:
    USNAP snaps + 13 * 96
    iret
    pushfd
    pop dword [uflags + 8]
    iret
    jmp $

; U3, entered by JMP with NT set in its TSS: IRET to its back link (A's TSS, available: #TS),
; then to a null back link (#TS(0)), then away through the DPL 3 gate to A.
global utask_u3
extern tss_u3
utask_u3:
    USNAP snaps + 14 * 96
    mov dword [user_resume], .r1
    iret
.r1:
    mov word [tss_u3], 0
    pushfd
    or dword [esp], 0x4000
    popfd
    mov dword [user_resume], .r2
    iret
.r2:
    mov dword [user_resume], 0
    jmp 0xfb:0
    jmp $

; UBAD: the user task whose switch faulted in its DS, fixed and resumed.
global utask_ubad
utask_ubad:
    USNAP snaps + 15 * 96
    jmp 0xfb:0
    jmp $

section .data
align 8
farptr: dd 0, 0
overflow_esp: dd 0
try_flags: dd 0
global uflags
uflags: dd 0, 0, 0, 0

section .bss
align 16
global snaps
snaps: resb 16 * 96
align 16
boot_stack:
    resb 16384
boot_stack_top:

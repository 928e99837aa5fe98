; Monitor trap entry and exit: every vector saves the guest into struct guest_frame at the
; top of the monitor stack, calls C, and returns to the guest through that frame.
bits 32
%include "monitor/layout.inc"

section .text
%include "arch/x86/vectors.inc"
VECTOR_STUBS mstub_, trap_common

extern monitor_trap, monitor_resume
global return_to_guest, return_iret, monitor_entry_from_host, mstub_table
trap_common:
    pusha
    push ds
    push es
    push fs
    push gs
    mov ax, MON_SEL_DS
    mov ds, ax
    mov es, ax
    mov ax, MON_SEL_FLAT        ; guest-linear memory, only when asked for explicitly
    mov fs, ax
    cld
    push esp                    ; struct guest_frame *
    call monitor_trap
    add esp, 4
return_to_guest:
    pop gs
    pop fs
    pop es
    pop ds
    popa
    add esp, 8
return_iret:
    iret

; The transition page lands here (CS = MON_SEL_CS) after loading the monitor's CR3 and GDT,
; still on its own stack and IDT (monitor/transition.asm tells why). No C stack survives a
; suspension: the monitor restarts on a fresh stack below the guest frame and runs the
; continuation from there.
extern mon_stack, mon_gdt, trans_data
MON_STACK_SIZE equ 16384
GUEST_FRAME_SIZE equ 76
monitor_entry_from_host:
    lss esp, [cs:mon_fresh_stack]       ; SS and ESP in one instruction
    mov ax, MON_SEL_DS
    mov ds, ax
    mov es, ax
    mov ax, MON_SEL_FLAT
    mov fs, ax
    mov gs, ax
    cld
    push esp
    call monitor_resume         ; builds the tables on the first entry; may suspend again
    add esp, 4
    lidt [trans_data + TD_MON_IDTR]
    and dword [mon_gdt + MON_TSS_INDEX * 8 + 4], ~0x200    ; TSS busy -> available
    mov ax, MON_SEL_TSS
    ltr ax
    jmp return_to_guest

section .rodata
mon_fresh_stack:
    dd mon_stack + MON_STACK_SIZE - GUEST_FRAME_SIZE
    dw MON_SEL_DS
mstub_table:
    VECTOR_TABLE mstub_

; The transition page: mapped at the same linear address (region + transition_off) in the
; monitor's and the host's (trampoline) address spaces, it switches CR3 while running from
; itself, then far-jumps into the other side's code segment. Interrupts are off throughout;
; NMIs are not, and this comment is the proof that an NMI at any instruction is harmless.
;
; What an NMI needs, at the instruction boundary where it arrives (CPL 0 to CPL 0: no stack
; switch): IDTR's table mapped, with a present gate for vector 2; the gate's selector present
; as a code segment in the table GDTR holds then; three words of stack at SS.base + ESP,
; mapped and writable; and for its IRET, the interrupted CS selector present as code in
; that same GDT (IRET reloads CS from the table). The cached SS and DS descriptors do not
; change when GDTR or CR3 do, and an IRET to the same level does not reload SS.
;
; The switch's own tables make that true at every step. In this page: an IDT whose only
; present gate is the NMI's, to trans_nmi (TRANS_NMI_OFF) through SWITCH_SEL_CS, and a GDT
; holding only that selector's entry (its base is set so that entry 8180 is in the page;
; trans_tables_fill). SWITCH_SEL_CS is flat ring-0 code, and it is at the same index in the
; host's GDT and in the monitor's, so the gate works whichever of the three GDTs is loaded.
; The page's last bytes are the switch's stack. trans_nmi loads no segment register: it
; counts in trans_data.nmi_in_switch (and nmi_on_switch_cs when it struck code running on
; SWITCH_SEL_CS: steps 2 to 6 below) through SS (flat, or based at the region when SS is
; MON_SEL_DS) and IRETs.
;
; Monitor to host (suspend: cli, jmp trans_to_host):
;   step                          CR3    GDT     IDT     CS      SS:ESP
;   at trans_to_host              mon    mon     mon     MON     mon stack      NMI: the monitor's handler
;   1 lidt switch IDT             mon    mon     switch  MON     mon stack      gate SWITCH_SEL_CS is in the monitor GDT
;   2 retf to SWITCH_SEL_CS       mon    mon     switch  SWITCH  mon stack
;   3 esp = top of this page      mon    mon     switch  SWITCH  page (region-based SS)
;   4 lgdt switch GDT             mon    switch  switch  SWITCH  page           all three in this page
;   5 mov cr3, trampoline         tramp  switch  switch  SWITCH  page           the page is mapped in both
;   6 lgdt host GDT               tramp  host    switch  SWITCH  page           the host GDT is mapped in the trampoline
;   7 jmp far HOST_CS             tramp  host    switch  HOST    page           world_host_resume (supervisor/world.asm):
;   8 lss host stack              tramp  host    switch  HOST    host stack     one instruction: SS and ESP together
;   9 lidt host IDT               tramp  host    host    HOST    host stack     the host's handler from here on
;  10 mov cr3, host               host   host    host    HOST    host stack
;
; Host to monitor (world_enter: cli, mov cr3 trampoline, jmp trans_from_host; every host table
; is mapped in the trampoline, so the host's IDT serves until step 1):
;   1 lidt switch IDT             tramp  host    switch  HOST    host stack     gate SWITCH_SEL_CS is in the host GDT
;   2 retf to SWITCH_SEL_CS       tramp  host    switch  SWITCH  host stack
;   3 esp = top of this page      tramp  host    switch  SWITCH  page (flat SS)
;   4 lgdt switch GDT             tramp  switch  switch  SWITCH  page
;   5 mov cr3, monitor            mon    switch  switch  SWITCH  page
;   6 lgdt monitor GDT            mon    mon     switch  SWITCH  page
;   7 jmp far MON_SEL_CS          mon    mon     switch  MON     page           monitor_entry_from_host (monitor/entry.asm):
;   8 lss monitor stack           mon    mon     switch  MON     mon stack
;   9 monitor_resume (C)          mon    mon     switch  MON     mon stack      an NMI here is only counted
;  10 lidt monitor IDT, ltr       mon    mon     mon     MON     mon stack      the monitor's handler from here on
;
; The far transfers (2, 7) change CS only while a GDT holding both the old and the new selector
; is loaded; the stack moves into the page (3) before the CR3 switch that would unmap the old
; one, and out of it with LSS, never with a MOV SS that leaves a moment of mixed SS and ESP.
; An NMI that arrives during a switch is counted and otherwise lost to the watchdog: the next
; one, a millisecond later, finds the guest or the host.
bits 32
%include "monitor/layout.inc"

section .transition
global trans_page, trans_to_host, trans_from_host, trans_data, trans_nmi
trans_page:

; The switch's NMI handler (TRANS_NMI_OFF = 0): CS = SWITCH_SEL_CS is flat, so EIP is linear.
trans_nmi:
    push eax
    push edx
    call .here
.here:
    pop edx                                 ; the linear address of .here
    xor eax, eax
    mov ax, ss
    cmp ax, MON_SEL_DS
    mov eax, 0                              ; SS flat: base 0
    jne .based
    mov eax, [cs:edx + trans_data + TD_REGION - .here]
.based:
    neg eax
    add eax, edx                            ; .here as an offset in SS
    inc dword [ss:eax + trans_data + TD_NMI_SWITCH - .here]
    cmp word [esp + 12], SWITCH_SEL_CS      ; the interrupted CS, above EDX, EAX and EIP
    jne .done
    inc dword [ss:eax + trans_data + TD_NMI_SWITCH_CS - .here]
.done:
    pop edx
    pop eax
    iret

; From the monitor: CS/DS/SS have base = region, so labels are DS-relative offsets, and a
; label plus the region is its linear address.
trans_to_host:
    lidt [trans_data + TD_SWITCH_IDTR]
    mov eax, [trans_data + TD_REGION]
    add eax, .flat
    push dword SWITCH_SEL_CS
    push eax
    retf
.flat:
    mov esp, trans_page + TRANS_STACK_TOP
    mov eax, cr3
    mov [trans_data + TD_MON_CR3], eax
    lgdt [trans_data + TD_SWITCH_GDTR]
    mov eax, [trans_data + TD_TRAMP_CR3]
    mov cr3, eax                        ; this page stays mapped at the same linear address
    lgdt [trans_data + TD_HOST_GDTR]
    jmp far [trans_data + TD_HOST_RESUME]

; From the host: CS/DS/SS flat, on the trampoline CR3; EBX = linear address of this page.
trans_from_host:
    lidt [ebx + trans_data - trans_page + TD_SWITCH_IDTR]
    lea eax, [ebx + .flat - trans_page]
    push dword SWITCH_SEL_CS
    push eax
    retf
.flat:
    lea esp, [ebx + TRANS_STACK_TOP]
    lgdt [ebx + trans_data - trans_page + TD_SWITCH_GDTR]
    mov eax, [ebx + trans_data - trans_page + TD_MON_CR3]
    mov cr3, eax
    lgdt [ebx + trans_data - trans_page + TD_MON_GDTR]
    jmp far [ebx + trans_data - trans_page + TD_MON_ENTRY]

times TRANS_DATA_OFF - ($ - trans_page) db 0xcc
trans_data:
    times 128 db 0
; The switch's IDT (TRANS_IDT_OFF), GDT entry (TRANS_GDT_OFF) and stack: filled by
; trans_tables_fill (monitor/layout.h).
    times 0x1000 - ($ - trans_page) db 0

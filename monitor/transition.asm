; The transition page: mapped at the same linear address in the monitor's and the host's
; (trampoline) address spaces, it switches CR3 while running from itself, then far-jumps
; into the other side's code segment. Interrupts are off throughout.
bits 32
%include "monitor/layout.inc"

section .transition
global trans_page, trans_to_host, trans_from_host, trans_data
trans_page:

; From the monitor: CS/DS have base = region, so labels are DS-relative offsets.
trans_to_host:
    mov eax, cr3
    mov [trans_data + TD_MON_CR3], eax
    mov eax, [trans_data + TD_TRAMP_CR3]
    mov cr3, eax                        ; this page stays mapped at the same linear address
    lgdt [trans_data + TD_HOST_GDTR]
    jmp far [trans_data + TD_HOST_RESUME]

; From the host: CS/DS flat, on the trampoline CR3; EBX = linear address of this page.
trans_from_host:
    mov eax, [ebx + TRANS_DATA_OFF + TD_MON_CR3]
    mov cr3, eax
    lgdt [ebx + TRANS_DATA_OFF + TD_MON_GDTR]
    jmp far [ebx + TRANS_DATA_OFF + TD_MON_ENTRY]

times TRANS_DATA_OFF - ($ - trans_page) db 0xcc
trans_data:
    times 64 db 0

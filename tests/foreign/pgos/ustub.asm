; pgos init program: entry, the system call, and pieces whose exact instructions matter.
bits 32
section .text
global _ustart
extern umain
_ustart:
    call umain
    mov ebx, eax
    xor eax, eax                    ; SYS_EXIT
    int 0x80
.never:
    jmp .never

; uint32_t sys(uint32_t n, uint32_t a, uint32_t b, uint32_t c)
global sys
sys:
    push ebx
    mov eax, [esp + 8]
    mov ebx, [esp + 12]
    mov ecx, [esp + 16]
    mov edx, [esp + 20]
    int 0x80
    pop ebx
    ret

; uint32_t call_on_stack(uint32_t (*fn)(void), uint32_t top): fn runs with ESP = top, so its
; CALL pushes the return address at top - 4
global call_on_stack
call_on_stack:
    push ebp
    mov ebp, esp
    mov eax, [ebp + 8]
    mov esp, [ebp + 12]
    call eax
    mov esp, ebp
    pop ebp
    ret

; void urep_movsb(void *dst, const void *src, uint32_t n)
global urep_movsb
urep_movsb:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov ecx, [esp + 20]
    cld
    rep movsb
    pop edi
    pop esi
    ret

; uint32_t straddle(void): its first instruction begins 2 bytes before the end of a page of
; its own and ends on the next one; neither page holds anything else that runs.
align 4096, db 0xcc
    times 4094 db 0xcc
global straddle
straddle:
    mov eax, 0x5eed1234
    ret
align 4096, db 0xcc

; pgro_gdt: a segment load whose descriptor has its accessed bit clear, with the GDT on a
; read-only page and CR0.WP set. The CPU sets the accessed bit as part of the load, an implicit
; supervisor write, so the load itself raises #PF (error 3, CR2 in the descriptor) and
; completes once the handler makes the page writable; the descriptor then reads accessed.
; umbra loads data segments natively from its shadow GDT and copies the accessed bit to the
; guest's table later, ignoring a read-only page: no fault, the bit shows up late.
; (CR2 is printed as an offset: QEMU writes the descriptor's high dword, +4 in it; a CPU may
; name the access byte, +5. Only the fault itself is the difference.)
bits 32
section .text
align 4
    dd 0x1BADB002, 0, -0x1BADB002
global _start
_start:
    mov esp, stack_top
    lgdt [gdtr]
    jmp 0x08:.cs
.cs:
    mov ax, 0x10
    mov ds, ax
    mov ss, ax
    mov es, ax
    ; #PF gate
    mov eax, pf_handler
    mov [idt + 14 * 8], ax
    mov word [idt + 14 * 8 + 2], 0x08
    mov word [idt + 14 * 8 + 4], 0x8e00
    shr eax, 16
    mov [idt + 14 * 8 + 6], ax
    lidt [idtr]
    ; identity map of 0-4 MiB in 4 KiB pages, the GDT's page read-only
    xor ecx, ecx
.fill:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [pt0 + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jne .fill
    mov eax, pt0
    or eax, 3
    mov [pd], eax
    mov eax, gdt
    shr eax, 12
    and dword [pt0 + eax * 4], ~2
    mov eax, pd
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000
    mov cr0, eax

    mov esi, msg_before
    call puts
    mov eax, [gdt + 0x18 + 4]
    shr eax, 8
    and eax, 0xff
    call puthex
    mov esi, msg_load
    call puts
    mov ax, 0x18
    mov es, ax                      ; natively: #PF here, the handler reports it
    mov esi, msg_after
    call puts
    mov eax, [gdt + 0x18 + 4]
    shr eax, 8
    and eax, 0xff
    call puthex
    mov esi, msg_faults
    call puts
    mov eax, [faults]
    call puthex
    mov esi, nl
    call puts
    ; status 0 when it went as on the CPU: one fault, the bit set
    xor eax, eax
    cmp dword [faults], 1
    setne al
    test byte [gdt + 0x18 + 5], 1
    jnz .exit
    or al, 2
.exit:
    out 0xf4, al
.stop:
    hlt
    jmp .stop

pf_handler:
    pushad
    mov esi, msg_pf
    call puts
    mov eax, [esp + 32]
    call puthex
    mov esi, msg_cr2
    call puts
    mov eax, cr2
    sub eax, gdt
    call puthex
    mov esi, nl
    call puts
    inc dword [faults]
    mov eax, gdt
    shr eax, 12
    or dword [pt0 + eax * 4], 2
    invlpg [gdt]
    popad
    add esp, 4
    iretd

puts:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3f8
    mov al, ah
    out dx, al
    jmp puts
.done:
    ret

puthex:                             ; EAX as 8 hex digits
    mov ecx, 8
    mov ebx, eax
.digit:
    rol ebx, 4
    mov eax, ebx
    and eax, 15
    mov al, [hexdigits + eax]
    mov [onech], al
    push ecx
    push ebx
    mov esi, onech
    call puts
    pop ebx
    pop ecx
    loop .digit
    ret

section .data
align 4096
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08 code
    dq 0x00cf93000000ffff           ; 0x10 data, accessed
    dq 0x00cf92000000ffff           ; 0x18 data, accessed bit clear
gdt_end:
align 4096
gdtr: dw gdt_end - gdt - 1
      dd gdt
idtr: dw 256 * 8 - 1
      dd idt
faults: dd 0
hexdigits: db "0123456789abcdef"
onech: db 0, 0
msg_before: db "pgro_gdt: access byte of 0x18 before: ", 0
msg_load: db 10, "loading ES with 0x18, GDT page read-only, CR0.WP set", 10, 0
msg_pf: db "  #PF err=", 0
msg_cr2: db " CR2-gdt=", 0
msg_after: db "access byte after: ", 0
msg_faults: db " faults: ", 0
nl: db 10, 0

section .bss
align 4096
pd: resb 4096
pt0: resb 4096
idt: resb 2048
resb 4096
stack_top:

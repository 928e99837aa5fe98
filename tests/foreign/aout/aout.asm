; aout: a kernel loaded by its Multiboot header's addresses (the "a.out kludge", flag 16), as
; flat-binary kernels are. The ELF's own program headers are deliberately wrong: they put the
; code at 4 MiB, so a loader that followed them would enter nothing. The header says: load
; the file from its start at 1 MiB, zero a BSS of 64 KiB after it, enter at `start`.
bits 32

%define LOAD 0x100000
section .text
global hdr_file_start
hdr_file_start:
align 4
mbh:
    dd 0x1BADB002
    dd 0x00010003
    dd -(0x1BADB002 + 0x00010003)
    dd LOAD + (mbh - hdr_file_start)            ; header_addr
    dd LOAD                                     ; load_addr
    dd LOAD + (file_end - hdr_file_start)       ; load_end_addr
    dd LOAD + (bss_end - hdr_file_start)        ; bss_end_addr
    dd LOAD + (start - hdr_file_start)          ; entry_addr
%define A(x) (LOAD + ((x) - hdr_file_start))
start:
    mov esp, A(stack_top)
    ; The BSS must be zero: sum every dword of it.
    xor eax, eax
    mov esi, A(bss_start)
.sum:
    or eax, [esi]
    add esi, 4
    cmp esi, A(bss_end)
    jne .sum
    mov edi, A(msg_bss_bad)
    test eax, eax
    jnz .say_fail
    ; The loaded bytes must be the file's: check the marker at the end of the data.
    cmp dword [A(marker)], 0x600dc0de
    mov edi, A(msg_data_bad)
    jne .say_fail
    mov edi, A(msg_ok)
    call say
    xor eax, eax
    jmp .out
.say_fail:
    call say
    mov eax, 1
.out:
    mov dx, 0xf4
    out dx, al
    hlt
; say: print the NUL-terminated string at EDI on COM1.
say:
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, [edi]
    test al, al
    jz .done
    mov dx, 0x3f8
    out dx, al
    inc edi
    jmp say
.done:
    ret
msg_ok:       db "aout: loaded by the header's addresses, BSS zero, data in place", 10, 0
msg_bss_bad:  db "aout: FAIL: BSS not zeroed", 10, 0
msg_data_bad: db "aout: FAIL: data not where the header says", 10, 0
align 4
marker: dd 0x600dc0de
file_end:
bss_start:
    times 0x10000 db 0xff     ; in the file, but past load_end_addr: the loader must zero it
bss_end:
    times 4096 db 0
stack_top:

; The monitor image, built on its own (linked at 0) and carried inside umbra's image.
section .rodata
align 4096
global monitor_blob, monitor_blob_end
monitor_blob:
    incbin "build/monitor.bin"
monitor_blob_end:

; hobbyos interrupt stubs and context switch, unchanged.
%include "../hobbyos/isr.asm"

; hobbyos interrupt stubs and context switch, unchanged.
%include "../../foreign/hobbyos/isr.asm"

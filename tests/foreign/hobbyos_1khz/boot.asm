; hobbyos boot stub, unchanged.
%include "../hobbyos/boot.asm"

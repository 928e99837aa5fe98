; hobbyos boot stub, unchanged.
%include "../../foreign/hobbyos/boot.asm"

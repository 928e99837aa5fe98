/* hobbyos, unchanged; its user program gives one process IOPL 3 (see user.c). */
#include "../../foreign/hobbyos/kernel.c"

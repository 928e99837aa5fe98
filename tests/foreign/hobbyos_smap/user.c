/* hobbyos's user program, unchanged. */
#include "../../foreign/hobbyos/user.c"

/* hobbyos's user program, unchanged. */
#include "../hobbyos/user.c"

/* hobbyos's user program with bravo's IOPL 3 round: PUSHF, POPF, CLI, STI and IN in user mode
 * with IOPL 3. Pending: umbra runs user code on the real IOPL 0 (see the helper's report). */
#define HOBBYOS_IOPL 1
#include "../../foreign/hobbyos/user.c"

/* hobbyos linked in the higher half: the kernel at 0xC0000000 (physical 1 MiB), no
 * identity map once the boot stub is done. */
#define KERNEL_VBASE 0xC0000000u
#include "../hobbyos/kernel.c"

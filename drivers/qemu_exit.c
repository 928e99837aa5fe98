/* QEMU's isa-debug-exit device on port 0xf4. */
#include "drivers/qemu_exit.h"
#include "arch/x86/io.h"

void qemu_exit(uint8_t status)
{
    outb(QEMU_EXIT_PORT, status);
}

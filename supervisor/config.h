/* umbra's own settings, from its Multiboot command line. */
#ifndef SUPERVISOR_CONFIG_H
#define SUPERVISOR_CONFIG_H
#include <stdint.h>

enum onexit { ONEXIT_HALT, ONEXIT_REBOOT, ONEXIT_QEMU };

/* Test-only faults that prove the exception report works (testfault=); `spurious` provokes a
 * spurious IRQ 7 from the 8259 and goes on. */
enum testfault { TESTFAULT_NONE, TESTFAULT_UD, TESTFAULT_PF, TESTFAULT_GP, TESTFAULT_DE, TESTFAULT_PANIC,
                 TESTFAULT_SPURIOUS };

struct umbra_config {
    unsigned log_sinks;        /* LOG_* bits */
    enum onexit onexit;
    enum testfault testfault;
    uint32_t poolmem;          /* pages all monitors' pools may hold together; 0: no limit */
    uint32_t watchdog_ms;      /* a guest with IF clear this long is taken back; 0: off */
    uint32_t tick_hz;          /* the host tick (and watchdog NMI) rate; testtick= changes it */
};
extern struct umbra_config config;

/* umbra's own exit statuses (QEMU reports (status << 1) | 1). */
#define UMBRA_EXIT_OK    0
#define UMBRA_EXIT_PANIC 0x7f

/* Parse umbra's command line into `config`; unknown or bad words are reported on the log
 * (call after the sinks are set, see config_sinks). */
void config_parse(const char *cmdline);
/* Just the log= setting, so the log can start before anything else is said. */
unsigned config_sinks(const char *cmdline);
/* Do what onexit= says with `status`: halt, reboot, or exit QEMU. Never returns. */
__attribute__((noreturn)) void umbra_exit(uint8_t status);
/* The same when the guest that ended last reset the machine: under onexit=qemu the PC is
 * reset, so that QEMU with -no-reboot stops as it does when that guest resets it natively
 * (exit code 0, not an exit device's); otherwise umbra_exit(0). Never returns. */
__attribute__((noreturn)) void umbra_exit_reset(void);

#endif

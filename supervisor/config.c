/* umbra's own command line: log=, onexit=, testfault=; every unknown word is reported. */
#include "supervisor/config.h"
#include "supervisor/log.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "drivers/qemu_exit.h"
#include "lib/words.h"

struct umbra_config config = { .log_sinks = LOG_COM1 | LOG_VGA, .onexit = ONEXIT_HALT, .testfault = TESTFAULT_NONE,
                               .poolmem = 0, .watchdog_ms = 50, .tick_hz = 1000 };

/* Parse a log= value into sink bits; false if any item is unknown. */
static bool parse_sinks(const struct word *w, unsigned *out)
{
    const char *s = w->val, *item;
    size_t n;
    unsigned bits = 0;
    bool ok = true;
    while (list_next(&s, w->val + w->vallen, &item, &n)) {
        if (span_is(item, n, "com1")) bits |= LOG_COM1;
        else if (span_is(item, n, "com2")) bits |= LOG_COM2;
        else if (span_is(item, n, "vga")) bits |= LOG_VGA;
        else if (span_is(item, n, "none")) bits |= 0;
        else ok = false;
    }
    *out = bits;
    return ok && w->vallen;
}

unsigned config_sinks(const char *cmdline)
{
    struct word w;
    unsigned s = config.log_sinks;
    const char *cur = cmdline ? cmdline : "";
    while (word_next(&cur, &w))
        if (word_key_is(&w, "log") && w.val) parse_sinks(&w, &s);
    return s;
}

/* Look a value up in a table of names; false when it is not there. */
static bool lookup(const struct word *w, const char *const *names, unsigned n, unsigned *out)
{
    for (unsigned i = 0; i < n; i++)
        if (w->val && span_is(w->val, w->vallen, names[i])) { *out = i; return true; }
    return false;
}

void config_parse(const char *cmdline)
{
    static const char *const onexit_names[] = { "halt", "reboot", "qemu" };
    static const char *const fault_names[] = { "none", "ud", "pf", "gp", "de", "panic", "spurious" };
    struct word w;
    const char *cur = cmdline ? cmdline : "";
    bool first = true;
    unsigned v;
    while (word_next(&cur, &w)) {
        bool was_first = first;
        first = false;
        if (word_key_is(&w, "log")) {
            if (!w.val || !parse_sinks(&w, &v))
                kprintf("umbra: log=%.*s: expected com1, com2, vga or none, comma-separated\n",
                        (int)w.vallen, w.val ? w.val : "");
            config.log_sinks = v;
        } else if (word_key_is(&w, "onexit")) {
            if (lookup(&w, onexit_names, 3, &v)) config.onexit = (enum onexit)v;
            else kprintf("umbra: onexit=%.*s: expected halt, reboot or qemu; keeping %s\n",
                         (int)w.vallen, w.val ? w.val : "", onexit_names[config.onexit]);
        } else if (word_key_is(&w, "testfault")) {
            if (lookup(&w, fault_names, 7, &v)) config.testfault = (enum testfault)v;
            else kprintf("umbra: testfault=%.*s: expected ud, pf, gp, de, panic or spurious\n",
                         (int)w.vallen, w.val ? w.val : "");
        } else if (word_key_is(&w, "poolmem")) {
            uint64_t bytes;
            if (w.val && parse_size(w.val, w.vallen, &bytes) && bytes >= 64 * 4096 && bytes < (1ull << 32))
                config.poolmem = (uint32_t)(bytes / 4096);
            else kprintf("umbra: poolmem=%.*s: expected a size of at least 256K, such as 4M; no limit kept\n",
                         (int)w.vallen, w.val ? w.val : "");
        } else if (word_key_is(&w, "watchdog")) {
            uint32_t ms;
            if (w.val && span_is(w.val, w.vallen, "off")) config.watchdog_ms = 0;
            else if (w.val && parse_ms(w.val, w.vallen, &ms) && ms >= 1 && ms <= 60000) config.watchdog_ms = ms;
            else kprintf("umbra: watchdog=%.*s: expected a time from 1ms to 60s, or off; keeping %u ms\n",
                         (int)w.vallen, w.val ? w.val : "", config.watchdog_ms);
        } else if (word_key_is(&w, "testtick")) {
            uint32_t hz;
            if (w.val && parse_u32(w.val, w.vallen, &hz) && hz >= 100 && hz <= 50000) config.tick_hz = hz;
            else kprintf("umbra: testtick=%.*s: expected a rate from 100 to 50000 (Hz); keeping %u\n",
                         (int)w.vallen, w.val ? w.val : "", config.tick_hz);
        } else if (was_first && !w.val) {
            /* The loader puts the kernel's own path first. */
        } else {
            kprintf("umbra: unknown option '%.*s' ignored (options: log= onexit= poolmem= testfault= testtick= watchdog=)\n",
                    (int)w.len, w.text);
        }
    }
}

/* Reset the PC through the keyboard controller, then by a triple fault. */
static __attribute__((noreturn)) void reboot(void)
{
    static const struct desc_ptr_empty { uint16_t limit; uint32_t base; } __attribute__((packed)) none = { 0, 0 };
    for (int i = 0; i < 100000 && (inb(0x64) & 2); i++) ;
    outb(0x64, 0xfe);
    __asm__ volatile("lidt %0; int3" :: "m"(none));
    cpu_halt_forever();
}

void umbra_exit_reset(void)
{
    __asm__ volatile("cli");
    if (config.onexit == ONEXIT_QEMU && cpu_under_qemu()) {
        kprintf("umbra: the guest reset the machine: resetting\n");
        reboot();
    }
    umbra_exit(0);
}

void umbra_exit(uint8_t status)
{
    __asm__ volatile("cli");
    switch (config.onexit) {
    case ONEXIT_QEMU:
        if (cpu_under_qemu()) {
            qemu_exit(status);
        }
        kprintf("umbra: onexit=qemu but no QEMU exit device answered; halting\n");
        break;
    case ONEXIT_REBOOT:
        kprintf("umbra: rebooting\n");
        reboot();
    case ONEXIT_HALT:
        break;
    }
    kprintf("umbra: halted (status %u)\n", status);
    cpu_halt_forever();
}

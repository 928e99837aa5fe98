/* Launching VMs from the boot modules: each module string with vm= is a guest. A module that
 * cannot become a guest is reported with its cause and skipped; the others go on. */
#include "supervisor/sched.h"
#include "supervisor/bootinfo.h"
#include "supervisor/guestload.h"
#include "supervisor/vm.h"
#include "supervisor/memory.h"
#include "supervisor/log.h"
#include "lib/string.h"

/* Does some guest's disk= name this module? */
static bool module_is_a_disk(const char *string)
{
    for (size_t k = 0; k < boot.nmods; k++) {
        struct vm_settings set;
        char w2[8];
        if (module_is_guest(boot.mods[k].string) && guest_parse(boot.mods[k].string, &set, w2, sizeof w2) &&
            set.disk[0] && module_is_named(string, set.disk)) return true;
    }
    return false;
}

unsigned vms_launch(void)
{
    char why[160], owner[16];
    static struct gmod mods[GUEST_MAX_MODS];
    struct kimage img;
    unsigned nmods;
    uint8_t *disk;
    uint32_t sectors;
    for (size_t i = 0; i < boot.nmods; i++) {
        const struct boot_module *m = &boot.mods[i];
        struct vm_settings set;
        if (module_owner(m->string, owner, sizeof owner)) {
            bool found = false;
            for (size_t k = 0; k < boot.nmods; k++) {
                struct vm_settings other;
                char w2[8];
                if (module_is_guest(boot.mods[k].string) && guest_parse(boot.mods[k].string, &other, w2, sizeof w2) &&
                    !strcmp(other.name, owner)) found = true;
            }
            if (!found) kprintf("umbra: module %u '%s': no guest is named '%s'; ignored\n", (unsigned)i, m->string, owner);
            continue;
        }
        if (!module_is_guest(m->string)) {
            if (module_is_a_disk(m->string)) continue;
            kprintf("umbra: module %u '%s' has no vm= setting; not a guest, ignored\n", (unsigned)i, m->string);
            continue;
        }
        if (nvms == MAX_VMS) {
            kprintf("umbra: module %u '%s': at most %u VMs; not started\n", (unsigned)i, m->string, MAX_VMS);
            continue;
        }
        if (!guest_parse(m->string, &set, why, sizeof why) ||
            !kimage_decode((const uint8_t *)m->start, m->end - m->start, set.mem, &img, why, sizeof why) ||
            !guest_modules(set.name, &img, set.mem, mods, &nmods, why, sizeof why) ||
            !guest_disk(&set, &disk, &sectors, why, sizeof why)) {
            kprintf("umbra: module %u '%s': %s; this VM does not start\n", (unsigned)i, m->string, why);
            continue;
        }
        bool dup = false;
        for (unsigned v = 0; v < nvms; v++) dup |= !strcmp(vms[v].set.name, set.name);
        if (dup) {
            kprintf("umbra: module %u '%s': another VM is already named '%s'; this VM does not start\n",
                    (unsigned)i, m->string, set.name);
            continue;
        }
        for (unsigned v = 0; v < nvms && disk; v++) dup |= vms[v].dev.ide.disk == disk;
        if (dup) {
            kprintf("umbra: module %u '%s': disk=%s is another VM's disk; this VM does not start\n",
                    (unsigned)i, m->string, set.disk);
            continue;
        }
        struct vm *vm = &vms[nvms];
        if (!vm_create(vm, nvms, &set, why, sizeof why)) {
            kprintf("umbra: vm %s: %s; this VM does not start\n", set.name, why);
            continue;
        }
        vmdev_init(vm, disk, sectors);
        guest_load(vm, &img, mods, nmods);
        kprintf("umbra: vm %s: %u MiB, entry %08x, command line '%s'\n", set.name,
                (unsigned)(set.mem >> 20), vm->shared->entry_eip, set.cmdline);
        nvms++;
    }
    return nvms;
}

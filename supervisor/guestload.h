/* Turning a Multiboot module into a guest: its settings, its ELF image, its Multiboot info. */
#ifndef SUPERVISOR_GUESTLOAD_H
#define SUPERVISOR_GUESTLOAD_H
#include <stdbool.h>
#include <stdint.h>
#include "supervisor/vm.h"

/* Where umbra puts the guest's Multiboot info in guest-physical memory. */
#define GUEST_MBI_BASE 0x8000u
#define GUEST_MBI_END  0x9f000u

#define GUEST_MAX_MODS 8

/* One of a guest's own modules: a boot module whose string carries for=NAME. */
struct gmod {
    const uint8_t *data;
    uint32_t size;
    char string[128];            /* its string without the for= word */
};

/* Is this module a guest (its string carries vm=)? */
bool module_is_guest(const char *string);
/* If this module belongs to a guest (for=NAME), copy NAME into name and return true. */
bool module_owner(const char *string, char *name, unsigned size);
/* Collect the modules that name `vm` and check they fit above the kernel in mem bytes;
 * false with the reason in why. */
bool guest_modules(const char *vm, const uint8_t *image, uint64_t mem, struct gmod *mods, unsigned *n,
                   char *why, unsigned whylen);
/* Does the module's first word (its path) equal path? */
bool module_is_named(const char *string, const char *path);
/* The disk a guest's disk= names: *data and *sectors (NULL and 0 without disk=); false with
 * the reason when no boot module has that name or its size is not whole 512-byte sectors. */
bool guest_disk(const struct vm_settings *set, uint8_t **data, uint32_t *sectors, char *why, unsigned whylen);
/* Parse a guest module string into settings; false with the reason in why. */
bool guest_parse(const char *string, struct vm_settings *set, char *why, unsigned whylen);
/* Check that [image, image+size) is an ELF32 Multiboot kernel that fits mem bytes of RAM;
 * false with the reason in why. Changes nothing. */
bool guest_check(const uint8_t *image, uint32_t size, uint64_t mem, char *why, unsigned whylen);
/* Load a checked image and its modules into the VM, build its Multiboot info, set its entry state. */
void guest_load(struct vm *vm, const uint8_t *image, uint32_t size, const struct gmod *mods, unsigned n);

#endif

/* Turning a Multiboot module into a guest: its settings, its image (kimage.h), its Multiboot info. */
#ifndef SUPERVISOR_GUESTLOAD_H
#define SUPERVISOR_GUESTLOAD_H
#include <stdbool.h>
#include <stdint.h>
#include "supervisor/vm.h"

#include "supervisor/kimage.h"

/* Where umbra puts the guest's Multiboot info and memory map (inside GUEST_MBI_BASE..END). */
#define GUEST_MMAP 0x9000u
#define GUEST_MBI  0x9500u
/* The top of guest RAM that the memory map reserves, as SeaBIOS does for its tables. */
#define GUEST_TOP_RESERVED 0x20000u

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
bool guest_modules(const char *vm, const struct kimage *k, uint64_t mem, struct gmod *mods, unsigned *n,
                   char *why, unsigned whylen);
/* Does the module's first word (its path) equal path? */
bool module_is_named(const char *string, const char *path);
/* The disk a guest's disk= names: *data and *sectors (NULL and 0 without disk=); false with
 * the reason when no boot module has that name or its size is not whole 512-byte sectors. */
bool guest_disk(const struct vm_settings *set, uint8_t **data, uint32_t *sectors, char *why, unsigned whylen);
/* Parse a guest module string into settings; false with the reason in why. */
bool guest_parse(const char *string, struct vm_settings *set, char *why, unsigned whylen);
/* Load a decoded image and its modules into the VM, build its Multiboot info, set its entry state. */
void guest_load(struct vm *vm, const struct kimage *k, const struct gmod *mods, unsigned n);

#endif

/* Turning a Multiboot module into a guest: its settings, its ELF image, its Multiboot info. */
#ifndef SUPERVISOR_GUESTLOAD_H
#define SUPERVISOR_GUESTLOAD_H
#include <stdbool.h>
#include <stdint.h>
#include "supervisor/vm.h"

/* Where umbra puts the guest's Multiboot info in guest-physical memory. */
#define GUEST_MBI_BASE 0x8000u
#define GUEST_MBI_END  0x9f000u

/* Is this module a guest (its string carries vm=)? */
bool module_is_guest(const char *string);
/* Parse a guest module string into settings; false with the reason in why. */
bool guest_parse(const char *string, struct vm_settings *set, char *why, unsigned whylen);
/* Check that [image, image+size) is an ELF32 Multiboot kernel that fits mem bytes of RAM;
 * false with the reason in why. Changes nothing. */
bool guest_check(const uint8_t *image, uint32_t size, uint64_t mem, char *why, unsigned whylen);
/* Load a checked image into the VM, build its Multiboot info, and set its entry state. */
void guest_load(struct vm *vm, const uint8_t *image, uint32_t size);

#endif

/* Guest memory as the monitor reaches it: guest-physical pages through windows, and
 * guest-linear addresses through a software walk of the guest's own page tables. */
#ifndef MONITOR_GMEM_H
#define MONITOR_GMEM_H
#include <stdbool.h>
#include <stdint.h>

/* Access kinds for guest-linear accesses. */
#define ACC_WRITE 1u
#define ACC_USER  2u     /* with the guest's user rights (its CPL is 3) */
#define ACC_FETCH 4u
#define ACC_AC    8u     /* an explicit supervisor-mode data access with the guest's EFLAGS.AC
                            set: CR4.SMAP lets it reach user pages (SDM Vol. 3A 4.6). Without
                            it a supervisor access is implicit (descriptor tables, TSS, the
                            stack of an event that changes to the kernel) or made with AC clear */

/* The rights of an explicit data access at the guest's current CPL: ACC_USER at CPL 3, ACC_AC
 * at CPL 0 while its EFLAGS.AC is set. */
unsigned glin_acc(void);
/* The rights for reading the instruction at CS:EIP that the CPU fetched already: a data read
 * that SMAP never refuses (ACC_AC at CPL 0: SMAP is not for fetches, and the fetch itself
 * met SMEP). */
unsigned glin_fetch_acc(void);

/* True when gpa is guest RAM. */
bool gpa_is_ram(uint32_t gpa);
/* True when gpa is in a device page (the local APIC's or the IOAPIC's): never mapped into a
 * shadow, every access emulated and forwarded to the device model. */
bool gpa_is_device(uint32_t gpa);
/* Host frame number of guest-physical page gpa (gpa must be RAM). */
uint32_t gpa_frame(uint32_t gpa);
/* Read/write n bytes of guest-physical memory; holes read as all ones and ignore writes. */
void gpa_read(uint32_t gpa, void *buf, uint32_t n);
void gpa_write(uint32_t gpa, const void *buf, uint32_t n);
uint32_t gpa_read32(uint32_t gpa);
/* The 1024 words of guest-physical page gpa (page-aligned; all ones for a hole), readable until
 * the next gpa_* call. */
const uint32_t *gpa_words(uint32_t gpa);
void gpa_write32(uint32_t gpa, uint32_t v);
/* Read/write n bytes at guest-linear va with the rights in acc; 0 on success, else
 * GWALK_FAULT | the #PF error code the guest would see, with the faulting address in *fault_va. */
uint32_t glin_read(uint32_t va, void *buf, uint32_t n, unsigned acc, uint32_t *fault_va);
uint32_t glin_write(uint32_t va, const void *buf, uint32_t n, unsigned acc, uint32_t *fault_va);

#endif

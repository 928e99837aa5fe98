/* Guest paging, first version: a simple virtual TLB of shadow entries filled on fault. */
#ifndef PAGING_VTLB_H
#define PAGING_VTLB_H
#include <stdbool.h>
#include <stdint.h>
#include "monitor/layout.h"

/* Take the first shadow root (pool slots 0-4) as the kernel view and link the region in. */
void vtlb_init(void);
/* Drop every shadow entry of both views (CR3 write, paging mode change). */
void vtlb_flush_all(void);
/* Drop the entries for the page holding va (INVLPG). */
void vtlb_flush_va(uint32_t va);
/* Run on the view for the guest's current CPL (kernel view at 0, user view at 3). */
void vtlb_set_view(void);
/* Link (or unlink) the monitor region's page tables at linear base in both views. */
void vtlb_region_link(uint32_t base, bool link);
/* #PF from the guest: fill a shadow entry, or deliver the fault the guest's tables give. */
void vtlb_page_fault(struct guest_frame *f);

#endif

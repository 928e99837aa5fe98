/* The monitor image header, and the checks that keep layout.h and layout.inc in step. */
#include <stddef.h>
#include "monitor/layout.h"
#include "monitor/tables.h"

extern uint8_t __file_end[], __mem_end[], __transition_start[];
extern void monitor_entry_from_host(void), trans_from_host(void);

__attribute__((section(".header"), used))
const struct monitor_header monitor_header = {
    .magic = MON_MAGIC,
    .file_size = (uint32_t)__file_end,
    .mem_size = (uint32_t)__mem_end,
    .transition_off = (uint32_t)__transition_start,
    .gdt_off = (uint32_t)mon_gdt,
    .idt_off = (uint32_t)mon_idt,
    .tss_off = (uint32_t)&mon_tss,
    .frame_off = (uint32_t)GUEST_FRAME,
    .entry_off = (uint32_t)monitor_entry_from_host,
    .from_host_off = (uint32_t)trans_from_host,
};

_Static_assert(MON_SEL_CS == (8191 << 3) && MON_SEL_DS == (8190 << 3), "layout.inc selectors");
_Static_assert(MON_SEL_FLAT == (8189 << 3) && MON_SEL_TSS == (8188 << 3), "layout.inc selectors");
_Static_assert(offsetof(struct transition_data, tramp_cr3) == 0, "TD_TRAMP_CR3");
_Static_assert(offsetof(struct transition_data, mon_cr3) == 4, "TD_MON_CR3");
_Static_assert(offsetof(struct transition_data, host_resume) == 8, "TD_HOST_RESUME");
_Static_assert(offsetof(struct transition_data, mon_entry) == 16, "TD_MON_ENTRY");
_Static_assert(offsetof(struct transition_data, host_gdtr) == 24, "TD_HOST_GDTR");
_Static_assert(offsetof(struct transition_data, mon_gdtr) == 32, "TD_MON_GDTR");
_Static_assert(offsetof(struct transition_data, mon_idtr) == 40, "TD_MON_IDTR");
_Static_assert(offsetof(struct transition_data, region) == 48, "TD_REGION");
_Static_assert(offsetof(struct transition_data, nmi_in_switch) == 52, "TD_NMI_SWITCH");
_Static_assert(offsetof(struct transition_data, switch_idtr) == 56, "TD_SWITCH_IDTR");
_Static_assert(offsetof(struct transition_data, switch_gdtr) == 64, "TD_SWITCH_GDTR");
_Static_assert(offsetof(struct transition_data, nmi_on_switch_cs) == 72, "TD_NMI_SWITCH_CS");
_Static_assert(TRANS_DATA_OFF + sizeof(struct transition_data) <= TRANS_IDT_OFF, "transition data fits its slot");
_Static_assert(TRANS_IDT_OFF + 3 * 8 <= TRANS_GDT_OFF && TRANS_GDT_OFF + 8 + 256 <= TRANS_STACK_TOP,
               "the switch's IDT, GDT entry and stack fit the transition page");
_Static_assert(sizeof(struct guest_frame) == 19 * 4, "guest_frame matches entry.asm");

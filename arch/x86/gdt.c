/* The host's GDT and TSS, and the double-fault task that reports a broken stack. */
#include "arch/x86/gdt.h"
#include "arch/x86/cpu.h"
#include "lib/string.h"

struct seg_desc host_gdt[HOST_GDT_ENTRIES] __attribute__((aligned(8)));
struct tss32 host_tss;
struct tss32 host_df_tss;
static uint8_t df_stack[4096] __attribute__((aligned(16)));
extern void double_fault_task(void);
extern uint8_t boot_stack_top[];

void gdt_init(void)
{
    memset(host_gdt, 0, sizeof host_gdt);
    host_gdt[1] = desc_make(0, 0xffffffff, DESC_P | DESC_S | DESC_TYPE_CODE_R, DESC_FLAG_DB);
    host_gdt[2] = desc_make(0, 0xffffffff, DESC_P | DESC_S | DESC_TYPE_DATA_RW, DESC_FLAG_DB);
    host_tss.ss0 = HOST_DS;
    host_tss.esp0 = (uint32_t)boot_stack_top;
    host_tss.iomap_base = sizeof host_tss;
    host_gdt[3] = desc_make((uint32_t)&host_tss, sizeof host_tss - 1, DESC_P | DESC_TYPE_TSS32, 0);
    /* A double fault switches to its own task with a fresh stack, so even a fault on a
     * broken stack is reported instead of becoming a silent triple fault. */
    host_df_tss.ss0 = host_df_tss.ss = host_df_tss.ds = host_df_tss.es = HOST_DS;
    host_df_tss.fs = host_df_tss.gs = HOST_DS;
    host_df_tss.cs = HOST_CS;
    host_df_tss.esp = host_df_tss.esp0 = (uint32_t)(df_stack + sizeof df_stack);
    host_df_tss.eip = (uint32_t)double_fault_task;
    host_df_tss.eflags = 0x2;
    host_df_tss.iomap_base = sizeof host_df_tss;
    host_gdt[4] = desc_make((uint32_t)&host_df_tss, sizeof host_df_tss - 1, DESC_P | DESC_TYPE_TSS32, 0);

    struct desc_ptr gdtr = { sizeof host_gdt - 1, (uint32_t)host_gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp %1, $1f\n"
        "1:\n\t"
        "mov %2, %%ax\n\t"
        "mov %%ax, %%ds\n\t"
        "mov %%ax, %%es\n\t"
        "mov %%ax, %%fs\n\t"
        "mov %%ax, %%gs\n\t"
        "mov %%ax, %%ss\n\t"
        :: "m"(gdtr), "i"(HOST_CS), "i"(HOST_DS) : "eax", "memory");
    gdt_reload_tr();
}

void gdt_reload_tr(void)
{
    host_gdt[SEL_INDEX(HOST_TSS)].hi &= ~((uint32_t)0x2 << 8);   /* busy -> available */
    __asm__ volatile("ltr %w0" :: "r"(HOST_TSS));
}
